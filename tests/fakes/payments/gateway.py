"""What the fake payment gateways share: request log, misbehaviour knobs, notify delivery.

A fake keeps its orders, checks our signatures with ``signatures`` (not our signer), and
delivers notifies the way its provider does: to the ``notify_url`` it was given, retried up
to ``notify_attempts`` times until the answer is the provider's acknowledgement.

Knobs (plain attributes, read on every request; ``reset()`` restores them):

* ``answer_status``: answer every API request with this HTTP status (a 5xx outage);
* ``delay``: seconds to wait before answering an API request (a slow provider);
* ``bad_signature``: sign notifies with the wrong secret;
* ``notify_amount``: send this amount text in notifies instead of the order's;
* ``duplicate_notifies``: send each notify this many extra times (all acknowledged);
* ``notify_attempts``: how often one notify is tried before the provider gives up.

Notifies go through ``notify_transport`` (an ``httpx.ASGITransport`` to a receiver app in
the same process) or, when it is ``None``, over the network (a receiver on loopback).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]
    """Query, form or JSON fields (the JSON values as text)."""
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notify attempt and the merchant's answer (status 0: it could not be sent)."""

    method: str
    url: str
    params: dict[str, str]
    status: int
    body: str


async def form_fields(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (the first value of a repeated name),
    parsed by hand: Starlette's ``request.form()`` needs python-multipart."""
    fields: dict[str, str] = {}
    for name, value in parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True):
        fields.setdefault(name, value)
    return fields


class FakeGateway:
    user_agent = "fake-payment-gateway/1.0"

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.deliveries: list[Delivery] = []
        self.rejections: list[str] = []
        """Why the fake refused one of our requests (e.g. ``"signature"``), in order."""
        self.notify_transport: httpx.AsyncBaseTransport | None = None
        self._numbers = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        self.answer_status: int | None = None
        self.delay = 0.0
        self.bad_signature = False
        self.notify_amount: str | None = None
        self.duplicate_notifies = 0
        self.notify_attempts = 5

    def next_number(self) -> int:
        return next(self._numbers)

    async def record(self, request: Request) -> dict[str, str]:
        params: dict[str, str] = dict(request.query_params)
        if request.method == "POST":
            if request.headers.get("content-type", "").startswith("application/json"):
                body = await request.json()
                if isinstance(body, dict):
                    params.update({k: "" if v is None else str(v) for k, v in body.items()})
            else:
                params.update(await form_fields(request))
        self.requests.append(
            RecordedRequest(
                request.method,
                request.url.path,
                params,
                {k.lower(): v for k, v in request.headers.items()},
            )
        )
        return params

    async def misbehaviour(self) -> Response | None:
        """Apply ``delay`` and ``answer_status``; a response to send instead, if any."""
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.answer_status is not None:
            return PlainTextResponse("upstream failure", status_code=self.answer_status)
        return None

    def refuse(self, reason: str) -> None:
        self.rejections.append(reason)

    async def deliver(
        self,
        method: str,
        url: str,
        params: Mapping[str, str],
        *,
        acknowledged: Callable[[int, str], bool],
    ) -> list[Delivery]:
        """Send one notify (plus ``duplicate_notifies`` copies), each retried until
        ``acknowledged`` or ``notify_attempts`` tries."""
        made: list[Delivery] = []
        headers = {"User-Agent": self.user_agent}
        async with httpx.AsyncClient(transport=self.notify_transport, timeout=30) as client:
            for _copy in range(1 + self.duplicate_notifies):
                for _attempt in range(self.notify_attempts):
                    try:
                        if method == "GET":
                            answer = await client.get(url, params=dict(params), headers=headers)
                        else:
                            answer = await client.post(url, data=dict(params), headers=headers)
                        delivery = Delivery(
                            method, url, dict(params), answer.status_code, answer.text
                        )
                    except httpx.HTTPError:
                        delivery = Delivery(method, url, dict(params), 0, "")
                    made.append(delivery)
                    self.deliveries.append(delivery)
                    if acknowledged(delivery.status, delivery.body):
                        break
        return made
