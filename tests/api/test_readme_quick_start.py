"""The README's shell examples, run as printed (curl and python3, as a newcomer types them)
against a real server: the quick start, the music walk-through on the demo catalog and
the mock-payment purchase. Only the base URL differs; a step the README leaves to the
reader's browser (pressing "Pay" on the mock cashier page) is done by submitting that
page's form, as the browser would."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.cli import import_catalog
from integrations.audio.synth import write_demo
from tests.support.live import live_karpov, live_settings

README = Path(__file__).resolve().parents[2] / "README.md"
README_BASE = "http://127.0.0.1:8080"


def section(heading: str) -> str:
    """The README's text from ``heading`` to the next heading of level 2 or 3."""
    text = README.read_text()
    start = text.index(heading)
    end = re.compile(r"^#{2,3} ", re.M).search(text, start + 1)
    assert end is not None
    return text[start : end.start()]


def blocks(heading: str, language: str = "sh") -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section(heading), re.S)


def quick_start_script() -> str:
    found = blocks("## Quick start")
    assert len(found) == 2, "the quick start has a /v1 and a GraphQL block"
    return "set -euo pipefail\n" + "\n".join(found)


def run_script(script: str, cwd: Path) -> str:
    if shutil.which("curl") is None:
        pytest.fail("curl is required (the README's examples use it)")
    done = subprocess.run(
        ["bash", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_the_readme_quick_start_works_as_printed(sqlite_url: str, tmp_path: Path) -> None:
    script = quick_start_script()
    assert f"B={README_BASE}" in script
    with live_karpov(sqlite_url) as base:
        out = run_script(script.replace(f"B={README_BASE}", f"B={base}"), tmp_path)
    assert '"email":"me@example.com"' in out  # registered, then /v1/auth/me with the key
    assert "HTTP/1.1 200 OK" in out
    assert (
        '{"data":{"viewer":{"email":"me@example.com","apiKeys":{"nodes":[{"name":"my first key"'
        in out
    )
    assert '"rateLimit":{"plan":{"name":' in out


def test_the_readme_music_walk_through_works_as_printed(sqlite_url: str, tmp_path: Path) -> None:
    """``make demo``, then the /v1 block, the GraphQL document (posted with the block's
    key) and the GraphQL curl line."""
    (setup, v1, graphql_curl) = blocks("### Music")
    assert "make demo   # = .venv/bin/karpov catalog demo" in setup
    (document,) = blocks("### Music", "graphql")
    demo = tmp_path / "music" / "demo"  # what `karpov catalog demo` does, in process
    write_demo(demo)
    assert asyncio.run(import_catalog(live_settings(sqlite_url), demo)) == 0
    (tmp_path / "document.graphql").write_text(document)
    post_document = (
        'python3 -c \'import json; print(json.dumps({"query": open("document.graphql").read()}))\''
        " | curl -s $B/graphql -H \"X-API-Key: $KEY\" -H 'Content-Type: application/json' -d @-"
    )
    # A reader runs each block on its own, seconds apart; run back to back, the last two
    # metered calls would fall in one second and meet the free plan's QPS limit.
    pause = "sleep 1.1"
    script = "\n".join(
        ["set -euo pipefail", v1, "echo", pause, post_document, "echo", pause, graphql_curl]
    )
    assert f"B={README_BASE}" in script
    with live_karpov(sqlite_url, own_base_url=True) as base:
        out = run_script(script.replace(f"B={README_BASE}", f"B={base}"), tmp_path)
    assert '"title":"Morning Light"' in out  # the search and the song
    assert "[00:00.00]Morning Light, line 1" in out  # its lyrics
    assert "HTTP/1.1 206 Partial Content" in out and "content-range: bytes 0-1023/" in out
    assert '"search":{"totalCount":1,"nodes":[{"id":"local:song:' in out  # the document
    assert '"quality":"FLAC","format":"wav"' in out
    assert '{"data":{"song":{"title":"Morning Light","lyrics":{"lrc":"[ti:Morning Light]' in out


PRESS_PAY = """
import re, sys, urllib.parse, urllib.request
from html.parser import HTMLParser

class Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms, self.text = [], ""
    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "form":
            self.forms.append({"action": values["action"], "fields": {}, "button": ""})
        elif tag == "input" and self.forms:
            self.forms[-1]["fields"][values["name"]] = values.get("value", "")
    def handle_data(self, data):
        if self.forms and self.lasttag == "button":
            self.forms[-1]["button"] += data.strip()

url = re.findall(r'"payUrl":"([^"]+)"', open(sys.argv[1]).read())[-1]
page = Forms()
page.feed(urllib.request.urlopen(url).read().decode())
(pay,) = [form for form in page.forms if form["button"] == "Pay"]
body = urllib.parse.urlencode(pay["fields"]).encode()
answer = urllib.request.urlopen(urllib.parse.urljoin(url, pay["action"]), data=body)
print("pressed Pay:", answer.read().decode())
"""


def test_the_readme_mock_payment_purchase_works_as_printed(sqlite_url: str, tmp_path: Path) -> None:
    """Every line of the block, with "Pay" pressed on each cashier page it mentions."""
    (block,) = blocks("### Billing")
    assert block.count('press "Pay"') == 2, "the plan order and the top-up are paid"
    (tmp_path / "press_pay.py").write_text(PRESS_PAY)
    lines = ["set -euo pipefail", "exec > out.txt"]
    for line in block.splitlines():
        lines.append(line)
        if 'press "Pay"' in line:
            lines.append("python3 press_pay.py out.txt")
    script = "\n".join(lines)
    assert "localhost:8080" in script
    with live_karpov(sqlite_url, own_base_url=True) as base:
        run_script(script.replace("localhost:8080", base.removeprefix("http://")), tmp_path)
    out = (tmp_path / "out.txt").read_text()
    assert f'"payUrl":"{base}/v1/billing/mock/pay/' in out
    assert out.count("pressed Pay: ok") == 2  # the mock provider's acknowledgement
    assert '"planId":"pro","planName":"Pro"' in out  # pro's limits, at once
    assert '"amountCents":5000,"currency":"CNY","kind":"topup"' in out  # the ledger line
    assert '"description":"Pro plan (monthly)"' in out and '"total":2}' in out  # 2 invoices
