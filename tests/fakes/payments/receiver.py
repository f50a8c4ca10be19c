"""A stand-in for Karpov's callback routes: it receives a provider's notifies and answers.

It records every notify (method, path, the form merged with the query string — the query
wins, as the original did —, headers, client address) and answers with what its handler
says. ``verifying(provider)`` is the handler our callback route will be: verify, then the
provider's acknowledgement (accepted or refused), keeping each verdict or refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from domain.billing.ports import CallbackVerdict, InvalidCallback, PaymentProvider
from tests.fakes.payments.gateway import form_fields

Handler = Callable[[str, Mapping[str, str]], tuple[int, str]]


@dataclass(frozen=True, slots=True)
class ReceivedNotify:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    """Header names lower-cased."""
    client_ip: str | None


def _always_success(method: str, params: Mapping[str, str]) -> tuple[int, str]:
    return 200, "success"


class NotifyReceiver:
    def __init__(self, handler: Handler = _always_success) -> None:
        self.handler = handler
        self.received: list[ReceivedNotify] = []
        self.app = Starlette(routes=[Route("/{path:path}", self._receive, methods=["GET", "POST"])])

    async def _receive(self, request: Request) -> Response:
        params: dict[str, str] = {}
        if request.method == "POST":
            params.update(await form_fields(request))
        params.update(request.query_params)
        self.received.append(
            ReceivedNotify(
                method=request.method,
                path=request.url.path,
                params=params,
                headers={k.lower(): v for k, v in request.headers.items()},
                client_ip=request.client.host if request.client else None,
            )
        )
        status, body = self.handler(request.method, params)
        return PlainTextResponse(body, status_code=status)


@dataclass
class Verifications:
    """What a ``verifying`` handler saw: verdicts and refusals, in arrival order."""

    outcomes: list[CallbackVerdict | InvalidCallback] = field(default_factory=list)

    @property
    def verdicts(self) -> list[CallbackVerdict]:
        return [o for o in self.outcomes if isinstance(o, CallbackVerdict)]

    @property
    def refusals(self) -> list[InvalidCallback]:
        return [o for o in self.outcomes if isinstance(o, InvalidCallback)]


def verifying(provider: PaymentProvider) -> tuple[Handler, Verifications]:
    seen = Verifications()

    def handle(method: str, params: Mapping[str, str]) -> tuple[int, str]:
        try:
            verdict = provider.verify_callback(params)
        except InvalidCallback as refusal:
            seen.outcomes.append(refusal)
            return 200, provider.acknowledgement(False).body
        seen.outcomes.append(verdict)
        return 200, provider.acknowledgement(True).body

    return handle, seen
