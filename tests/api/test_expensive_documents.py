"""Issue 12, item 1: no GraphQL document can freeze the server. The attack documents of the
issue (fragments that each spread the next one twice, 20 levels: 21-29 s of validation
per request before the fix, with /healthz stalled meanwhile; 1,200 duplicate fields: 1.8-3 s)
are refused fast, anonymously, while /healthz keeps answering on the same event loop.

The bounds are generous (5 s, a tenth of the old stall for several requests together) so a
loaded CI machine cannot make them flake; the fixed analysis answers in milliseconds."""

from __future__ import annotations

import asyncio
import time

from tests.api.harness import Api

SLOW = 5.0


def fragment_bomb(levels: int = 20) -> str:
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Query {{ __typename }}")
    return "{ ...F0 }\n" + "\n".join(fragments)


def duplicate_fields(count: int = 1200) -> str:
    return "{ " + "viewer { id } " * count + "}"


async def timed_post(api: Api, query: str) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    response = await api.post("/graphql", json={"query": query})
    assert response.status_code in (200, 400), response.text
    return time.perf_counter() - started, response.json()


async def test_attack_documents_are_refused_while_healthz_stays_fast(api: Api) -> None:
    # Both backends: with Redis the document store (persisted queries) and the sign-in
    # and rate-limit paths the request crosses are Redis-backed, and must not stall either.
    await api.prime_csrf()
    attacks = [fragment_bomb(), fragment_bomb(), duplicate_fields(), duplicate_fields()]
    health: list[float] = []
    running = True

    async def probe() -> None:
        while running:
            started = time.perf_counter()
            assert (await api.http.get("/healthz")).status_code == 200
            health.append(time.perf_counter() - started)
            await asyncio.sleep(0.01)

    prober = asyncio.create_task(probe())
    try:
        results = await asyncio.gather(*(timed_post(api, q) for q in attacks))
    finally:
        running = False
        await prober
    for elapsed, body in results:
        assert elapsed < SLOW, (elapsed, body)
        assert body.get("data") is None and body["errors"], body
    assert health, "the probe never ran"
    assert max(health) < SLOW, health
