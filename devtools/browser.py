"""The dashboard served by `streamlit run` and driven in headless Chromium (Debian's, via Playwright).

Used by the end-to-end test and by bench/bench_dashboard.py (page load times, README screenshots).
Playwright is a development dependency: imported only when a browser is opened.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dashboards.layout import FOOTER
from foundation.published_copy import PUBLISHED_ENV

APP = Path(__file__).resolve().parent.parent / "dashboards" / "app.py"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CHART = '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg.marks'
# Page name -> (URL path, charts it draws). The default page lives at the root.
PAGES = {
    "overview": ("", 2),
    "cohorts": ("cohorts", 2),
    "waves": ("waves", 4),
    "reporting": ("reporting", 3),
    "submissions": ("submissions", 1),
    "compliance": ("compliance", 0),
    "data-quality": ("data-quality", 0),
    "sql": ("sql", 0),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(published: Path, timeout_s: float = 60) -> Iterator[str]:
    """`streamlit run dashboards/app.py` on a free port over the given published copy; yields its URL."""
    port = _free_port()
    env = {**os.environ, PUBLISHED_ENV: str(published)}
    log = tempfile.TemporaryFile(mode="w+")  # a pipe nobody reads could fill up and stall the server
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"streamlit did not start: {log.read()}") from None
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@contextmanager
def chromium(width: int = 1400, height: int = 2000):
    """A fresh headless Chromium page (a tall viewport: Streamlit scrolls an inner container)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def wait_rendered(page, charts: int) -> None:
    """Until the page has run to its footer and drawn its charts."""
    page.get_by_text(FOOTER).wait_for()
    if charts:
        page.wait_for_function(
            "([selector, n]) => document.querySelectorAll(selector).length >= n", arg=[CHART, charts]
        )


def open_page(page, url: str, name: str, query: str = "") -> float:
    """Load one dashboard page (with this query string) and wait until it is rendered; seconds it took."""
    path, charts = PAGES[name]
    started = time.perf_counter()
    page.goto(f"{url}/{path}" + (f"?{query}" if query else ""))
    wait_rendered(page, charts)
    return time.perf_counter() - started


def show_pace(page) -> None:
    """Scroll the Invitation waves page to put its Pace section at the top and wait for its chart (the page's last)."""
    page.get_by_role("heading", name="Pace").evaluate("heading => heading.scrollIntoView({block: 'start'})")
    wait_rendered(page, PAGES["waves"][1])
    page.get_by_text("How right was it before?").wait_for()
