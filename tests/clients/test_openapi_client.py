"""The /v1 OpenAPI document, as clients use it (issue 11, item 7), against a real Karpov on
a loopback port:

* it generates a working client: openapi-typescript makes TypeScript types of the served
  document, the TypeScript compiler type-checks a client written against them (strict: a
  wrong field, enum or required key fails the compile), and that client signs up, signs
  in, reads ``me``, makes an API key and uses it (``tests/clients/openapi_client.*``);
* schemathesis' conformance checks pass against it: every response it provokes has a
  documented status, content type and a body that the response schema accepts.

Node 20+ and npm are required (pinned in ``package-lock.json``), as for the other client
tests; a missing one fails, never skips.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.harness import ADMIN_TOKEN, STRONG_PASSWORD
from tests.support.live import chromium_dump_dom, live_karpov, require_chromium, run_node


@pytest.fixture
def base(sqlite_url: str) -> Iterator[str]:
    with live_karpov(sqlite_url) as url:
        yield url


def test_the_openapi_document_generates_a_working_typescript_client(
    base: str, tmp_path: Path
) -> None:
    done = run_node("openapi_client.mjs", base, str(tmp_path), timeout=300)
    lines = done.stdout.strip().splitlines()
    assert lines, f"openapi_client.mjs printed nothing:\n{done.stderr[-3000:]}"
    report = json.loads(lines[-1])
    assert report["diagnostics"] == [], report["diagnostics"]  # the types fit the client
    assert done.returncode == 0, json.dumps(report, indent=1)[-4000:] + done.stderr[-2000:]
    assert report["generated"] > 10_000
    result = report["result"]
    assert result["verification"] == "boolean"
    assert result["registered"] is True
    assert result["refusal"] == {"status": 401, "code": 16}  # UNAUTHENTICATED, typed GrpcError
    assert result["me"]["status"] == "active" and result["me"]["known"] is True
    assert result["me"]["role"] == "user"
    assert result["key"] == {"name": "generated client", "scopes": ["music:read"],
                             "prefixed": True}  # fmt: skip
    assert result["listed"] == [result["byApiKey"]["id"]]
    assert result["byApiKey"]["status"] == "active"
    assert result["sessions"] == 1


def schemathesis_run(document: str, headers: dict[str, str], cwd: Path) -> None:
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run", document,
        "--checks", "response_schema_conformance,status_code_conformance,"
        "content_type_conformance",
        # The coverage phase runs in make fuzz (bench/fuzz.py), against a served process;
        # here it would take minutes of the suite.
        "--phases", "examples,fuzzing,stateful", "--max-examples", "3", "--workers", "1",
        "--seed", "11", "--no-shrink",
        "--suppress-health-check", "all", "--warnings", "off", "--request-timeout", "10",
        # Signing out would leave the rest of the run checking 401s only.
        "--exclude-operation-id", "postAuthLogout",
    ]  # fmt: skip
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=cwd,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "No issues found" in done.stdout, done.stdout[-3000:]


def test_schemathesis_conformance_checks_pass_against_the_served_document(
    base: str, tmp_path: Path
) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/v1/config/runtime")
        csrf = {"X-CSRF-Token": client.cookies["csrf_token"]}
        body = {"email": "conformance@example.com", "password": STRONG_PASSWORD}
        assert client.post("/v1/auth/register", json=body, headers=csrf).status_code == 200
        login = client.post("/v1/auth/login", json=body, headers=csrf)
        assert login.status_code == 200, login.text
        sid = login.json()["sid"]
    document = f"{base}/v1/docs/openapi.json"
    # With a session (the user's routes answer data, not 401) and as an operator.
    schemathesis_run(document, {"X-Session-Id": sid}, tmp_path)
    schemathesis_run(document, {"X-Admin-Key": ADMIN_TOKEN}, tmp_path)
    # The session lived through its run: the user's routes answered data, not only 401s.
    me = httpx.get(f"{base}/v1/auth/me", headers={"X-Session-Id": sid}, timeout=30)
    assert me.status_code == 200, me.text


def test_the_v1_reference_renders_in_headless_chromium_from_our_assets(
    base: str, tmp_path: Path
) -> None:
    """``/v1/docs`` is Swagger UI, drawn from the vendored bundle under the platform's CSP
    with no network: the rendered page lists the operations and their schemas."""
    dom = chromium_dump_dom(require_chromium(), f"{base}/v1/docs", tmp_path / "profile")
    assert "swagger-ui" in dom
    assert "Swagger UI assets failed to load" not in dom
    assert dom.count('class="opblock ') >= 50, dom[:3000]  # one block per operation
    assert "/v1/auth/api-keys" in dom
    # The schemas section, from components: with this many, Swagger UI virtualises the
    # list (only the first rows are in the DOM), so look for the first one by name.
    components = httpx.get(f"{base}/v1/docs/openapi.json", timeout=30).json()["components"]
    assert 'class="models is-open' in dom
    assert min(components["schemas"]) in dom
