"""The ``musicu.fcg`` transport: one POST carries the ``comm`` block and one or more
sub-requests ``req_0 … req_n`` (``{module, method, param}``); the answer carries a
``{code, data}`` per sub-request.

Here the upstream's failures become ``ProviderFailure``s: transport errors and time-outs
are ``UpstreamUnreachable``; a non-200 answer, unreadable JSON or a missing ``data`` are
``UpstreamBadAnswer``; non-zero codes map through ``failures``. Concurrency is capped per
client; each HTTP exchange has its own time limit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from domain.music.errors import (
    ProviderFailure,
    UpstreamBadAnswer,
    UpstreamRateLimit,
    UpstreamUnreachable,
)
from integrations.qqmusic.comm import Platform, build_comm
from integrations.qqmusic.config import QQMusicConfig
from integrations.qqmusic.credential import QQCredential
from integrations.qqmusic.failures import failure_for, login_failure_for
from integrations.qqmusic.http_client import cookie_header
from integrations.qqmusic.raw import JsonObject
from integrations.qqmusic.sign import sign_body

log = logging.getLogger("karpov.integrations.qqmusic")


@dataclass(frozen=True, slots=True)
class Call:
    """One sub-request: an upstream module and method with its parameters."""

    module: str
    method: str
    param: Mapping[str, Any] = field(default_factory=dict)
    preserve_bool: bool = False
    """Send booleans as JSON booleans (a few methods want them); otherwise they become 0/1."""
    login: bool = False
    """A login or refresh call: its codes map through the login table."""

    @property
    def name(self) -> str:
        return f"{self.module}.{self.method}"


def ints_for_bools(value: Any) -> Any:
    """QQ's servers read flags as 0/1; booleans anywhere in the parameters become ints."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Mapping):
        return {key: ints_for_bools(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [ints_for_bools(item) for item in value]
    return value


class MusicuTransport:
    def __init__(self, config: QQMusicConfig, http: httpx.AsyncClient, *, guid: str) -> None:
        self._config = config
        self._http = http
        self.guid = guid
        self._slots = asyncio.Semaphore(config.max_concurrency)

    async def call(
        self,
        call: Call,
        credential: QQCredential | None = None,
        *,
        platform: Platform = Platform.ANDROID,
        comm: Mapping[str, Any] | None = None,
    ) -> JsonObject:
        [data] = await self.call_many([call], credential, platform=platform, comm=comm)
        return data

    async def call_many(
        self,
        calls: Sequence[Call],
        credential: QQCredential | None = None,
        *,
        platform: Platform = Platform.ANDROID,
        comm: Mapping[str, Any] | None = None,
    ) -> list[JsonObject]:
        """The ``data`` of every call, in order; the first failing call's failure is raised.
        Calls beyond ``batch_limit`` go in further bodies, sent concurrently."""
        if not calls:
            return []
        size = self._config.batch_limit
        batches = [calls[i : i + size] for i in range(0, len(calls), size)]
        answers = await asyncio.gather(
            *(self._post(batch, credential, platform, comm) for batch in batches)
        )
        return [data for batch in answers for data in batch]

    async def _post(
        self,
        calls: Sequence[Call],
        credential: QQCredential | None,
        platform: Platform,
        comm: Mapping[str, Any] | None,
    ) -> list[JsonObject]:
        full_comm = build_comm(self._config, platform, self.guid, credential)
        full_comm.update(comm or {})
        body: dict[str, Any] = {"comm": full_comm}
        for index, call in enumerate(calls):
            param = dict(call.param) if call.preserve_bool else ints_for_bools(call.param)
            body[f"req_{index}"] = {"module": call.module, "method": call.method, "param": param}
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        url = self._config.api_url
        if self._config.sign_requests:
            url += ("&" if "?" in url else "?") + "sign=" + sign_body(content)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": (
                self._config.browser_user_agent
                if platform is Platform.WEB
                else self._config.user_agent
            ),
            "Referer": "https://y.qq.com/",
        }
        if credential is not None:
            headers["Cookie"] = cookie_header(credential.cookies())
        names = ",".join(call.name for call in calls)
        async with self._slots:
            started = time.monotonic()
            response = await self._send(url, content, headers, names)
        log.debug(
            "qqmusic %s: HTTP %s in %.0f ms",
            names,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return self._read(response, calls, names)

    async def _send(
        self, url: str, content: bytes, headers: dict[str, str], names: str
    ) -> httpx.Response:
        try:
            async with asyncio.timeout(self._config.timeout_s):
                return await self._http.post(url, content=content, headers=headers)
        except (TimeoutError, httpx.TimeoutException):
            raise UpstreamUnreachable(f"QQ Music timed out ({names})") from None
        except httpx.TransportError as exc:
            raise UpstreamUnreachable(
                f"QQ Music unreachable ({names}): {type(exc).__name__}"
            ) from None

    def _read(
        self, response: httpx.Response, calls: Sequence[Call], names: str
    ) -> list[JsonObject]:
        if response.status_code == 429:
            raise UpstreamRateLimit(f"QQ Music answered HTTP 429 ({names})", upstream_code=429)
        if response.status_code != 200:
            raise UpstreamBadAnswer(
                f"QQ Music answered HTTP {response.status_code} ({names})",
                upstream_code=response.status_code,
            )
        try:
            answer = response.json()
        except ValueError:
            raise UpstreamBadAnswer(f"QQ Music answered something not JSON ({names})") from None
        if not isinstance(answer, Mapping):
            raise UpstreamBadAnswer(f"QQ Music answered a JSON {type(answer).__name__} ({names})")
        top = _code(answer)
        if top:
            raise _failure(top, calls[0]) if len(calls) == 1 else failure_for(top, names)
        out: list[JsonObject] = []
        for index, call in enumerate(calls):
            item = answer.get(f"req_{index}")
            if not isinstance(item, Mapping):
                raise UpstreamBadAnswer(f"QQ Music left out the answer to {call.name}")
            code = _code(item)
            if code:
                raise _failure(code, call)
            data = item.get("data")
            if not isinstance(data, Mapping):
                raise UpstreamBadAnswer(f"QQ Music answered {call.name} without data")
            out.append(data)
        return out


def _code(item: Mapping[str, Any]) -> int:
    """The answer's code; an unreadable one counts as a failure (-1)."""
    code = item.get("code", 0)
    if code is None:
        return 0
    if isinstance(code, int) and not isinstance(code, bool):
        return code
    if isinstance(code, str) and code.strip().lstrip("-").isdigit():
        return int(code)
    return -1


def _failure(code: int, call: Call) -> ProviderFailure:
    return login_failure_for(code, call.name) if call.login else failure_for(code, call.name)
