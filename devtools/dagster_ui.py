"""`make dagster` (orchestration/dagster_ui.py) started on a free port against a given warehouse, and
read through the webserver's GraphQL: used by the UI test and the screenshots."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

WORKSPACE = """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message }
    ... on RepositoryLocation { repositories { assetNodes { assetKey { path } }
      jobs { name } schedules { name } sensors { name } } } } } } } }"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql", json.dumps({"query": query}).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)["data"]


def _ignore_sigint() -> None:  # what a shell does to a command it starts in the background
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def serve(env: dict[str, str], timeout_s: float = 180) -> Iterator[tuple[str, subprocess.Popen]]:
    """`python -m orchestration.dagster_ui` as a background start (SIGINT ignored) with these
    variables; yields the UI's URL once its code location has loaded, and the process."""
    port = _free_port()
    log = tempfile.TemporaryFile(mode="w+")
    ui = subprocess.Popen(
        [sys.executable, "-m", "orchestration.dagster_ui", "--port", str(port), "--host", "127.0.0.1"],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_ignore_sigint,
        start_new_session=True,  # its webserver, daemon and code servers form one group to clean up
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                entries = graphql(url, WORKSPACE)["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["loadStatus"] == "LOADED":
                    break
            except (OSError, KeyError, TypeError):
                pass
            if ui.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"the Dagster UI did not start: {log.read()[-3000:]}")
            time.sleep(1)
        yield url, ui
    finally:
        if ui.poll() is None:
            os.killpg(ui.pid, signal.SIGKILL)
            ui.wait()
        else:  # its children too, should one have outlived it
            try:
                os.killpg(ui.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()


def group_alive(pid: int) -> bool:
    """Whether any process of the group `pid` leads is still running."""
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def open_asset_group(page, url: str, group: str, asset: str) -> None:
    """The lineage graph of one asset group, until `asset` is drawn; the first visit's community
    dialog dismissed."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(f"{url}/locations/orchestration.definitions/asset-groups/{group}/lineage")
    page.get_by_text(asset, exact=True).first.wait_for()
    skip = page.get_by_role("button", name="Skip")
    try:  # the dialog opens a moment after the page, on a home that has not dismissed it yet
        skip.wait_for(timeout=5_000)
    except PlaywrightTimeout:
        return
    skip.click()
