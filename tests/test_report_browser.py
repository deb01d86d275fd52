"""The HTML report in a real headless Chromium (Debian's ``chromium``, see scripts/).

scripts/install-chromium.sh installs it; without it these tests skip, saying so.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: JSON
messages ended by NUL on file descriptors 3 and 4), so no websocket library is needed. The page
must load with no console error and no request beyond its own file, render its tables and
images, and keep hostile strings as text.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from benchbench.report import build_report
from benchbench.results import write_result
from tests.report_fixtures import HOSTILE, RESULTS_DIR, hostile_results

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
TIMEOUT = 60.0


class Browser:
    """A headless Chromium and one page, spoken to over the DevTools pipe."""

    def __init__(self, profile: Path):
        cmd_read, self._cmd_write = os.pipe()
        self._res_read, res_write = os.pipe()

        def child_fds():  # Chromium reads commands on fd 3 and writes replies on fd 4.
            high_in = fcntl.fcntl(cmd_read, fcntl.F_DUPFD, 10)
            high_out = fcntl.fcntl(res_write, fcntl.F_DUPFD, 10)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={profile}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=child_fds,
        )
        os.close(cmd_read)
        os.close(res_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=True)

    def send(self, method: str, params: dict | None = None, session: bool = False) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._cmd_write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def open(self, url: str) -> None:
        """Navigates and waits for the load event (and a moment for late console messages)."""
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session=True)
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self._read())
        self.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 100)))")

    def evaluate(self, expression: str):
        params = {"expression": expression, "returnByValue": True, "awaitPromise": True}
        reply = self.send("Runtime.evaluate", params, session=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def screenshot(self, path: Path, width: int = 1366) -> Path:
        height = self.evaluate("document.documentElement.scrollHeight")
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self.send("Emulation.setDeviceMetricsOverride", metrics, session=True)
        shot = self.send("Page.captureScreenshot", {"format": "png"}, session=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._cmd_write)
        os.close(self._res_read)

    def _read(self) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._res_read], [], [], left)[0]:
                raise TimeoutError(f"no message from chromium within {TIMEOUT:.0f} s")
            chunk = os.read(self._res_read, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)


def problems(events: list[dict], page_url: str) -> list[str]:
    """Console errors, exceptions, dialogs and any request other than the page itself."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append(f"console {params['type']}: {params.get('args')}")
        elif method == "Runtime.exceptionThrown":
            found.append(f"exception: {params.get('exceptionDetails')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            found.append(f"log: {params['entry'].get('text')}")
        elif method == "Page.javascriptDialogOpening":
            found.append(f"dialog: {params.get('message')}")
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if url != page_url and not url.startswith("data:"):
                found.append(f"request: {url}")
    return found


def _need_chromium() -> None:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (scripts/install-chromium.sh installs it)")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _need_chromium()
    browser = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def report_page(tmp_path_factory) -> Path:
    _need_chromium()
    return build_report([RESULTS_DIR], tmp_path_factory.mktemp("page") / "report.html").resolve()


DOM_FACTS = """({
  tables: document.querySelectorAll('table.results').length,
  rows: document.querySelectorAll('table.results tbody tr').length,
  images: Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight]),
  scripts: document.querySelectorAll('script').length,
  handlers: Array.from(document.querySelectorAll('*')).filter(
      e => Array.from(e.attributes).some(a => a.name.startsWith('on'))).length,
  bold: Array.from(document.querySelectorAll('td.best strong')).map(e => e.textContent),
  text: document.body.innerText,
  width: document.documentElement.scrollWidth,
})"""


def test_problems_are_caught(browser, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        '<img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script>',
        encoding="utf-8",
    )
    browser.open(page.as_uri())
    found = problems(browser.events, page.as_uri())
    assert any(p.startswith("request: http://127.0.0.1:9/") for p in found), found
    assert any(p.startswith("console error") for p in found), found


def test_report_renders_in_chromium(browser, report_page, tmp_path):
    url = report_page.as_uri()
    browser.open(url)
    assert problems(browser.events, url) == []
    facts = browser.evaluate(DOM_FACTS)
    assert facts["tables"] >= 10 and facts["rows"] > 40
    assert len(facts["images"]) == 6
    assert all(done and w > 300 and h > 200 for done, w, h in facts["images"])
    assert "3.10 ± 0.10" in facts["bold"]
    assert "unavailable: CNTK 2.7" in facts["text"] and "97.12% ⚠" in facts["text"]
    assert facts["width"] <= 1366, "the page scrolls sideways on a laptop-sized window"
    shot = browser.screenshot(tmp_path / "report.png")
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 50_000
    if os.environ.get("BENCHBENCH_SCREENSHOT"):
        shutil.copy(shot, os.environ["BENCHBENCH_SCREENSHOT"])


def test_hostile_strings_stay_text_in_chromium(browser, tmp_path):
    for result in hostile_results():
        write_result(tmp_path / "results" / "machine" / "run", result)
    page = build_report([tmp_path / "results"], tmp_path / "hostile.html").resolve()
    url = page.as_uri()
    browser.open(url)
    assert problems(browser.events, url) == []
    facts = browser.evaluate(DOM_FACTS)
    assert facts["scripts"] == 0 and facts["handlers"] == 0
    assert HOSTILE in facts["text"] and "<img src=x onerror=alert(2)>" in facts["text"]
    assert 'evil"<b>$x$</b>|**' in facts["text"]


def test_chromium_command_line_dumps_the_dom(report_page, tmp_path):
    page = report_page
    shot = tmp_path / "shot.png"
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    assert dom.count('<table class="results speed">') == 2
    subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1366,900", page.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes().startswith(b"\x89PNG")
