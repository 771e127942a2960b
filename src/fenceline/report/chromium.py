"""Headless Chromium, run as a program: print the report to PDF, screenshot it, dump its DOM.

Chromium runs with a fresh profile, no background networking and every host unresolvable
and every proxy request sent nowhere, so a page that tried to reach the network would fail
visibly instead of leaking a request.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["BLOCK_NETWORK_FLAGS", "find_chromium", "run_chromium"]

#: never resolve a host, send anything that would go out to a closed local port
BLOCK_NETWORK_FLAGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-domain-reliability",
    "--no-pings",
    "--disable-quic",
]

BASE_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--mute-audio",
    "--disable-extensions",
]


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable (``FENCELINE_CHROMIUM`` first), or None.

    >>> found = find_chromium()
    >>> found is None or isinstance(found, str)
    True
    """
    configured = os.environ.get("FENCELINE_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def run_chromium(
    url: str, args: list[str], *, timeout: float = 60.0, executable: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on ``url`` with extra ``args`` and the network blocked.

    Raises ``FileNotFoundError`` when no Chromium is installed.

    >>> if find_chromium():
    ...     result = run_chromium("data:text/html,<p>hi</p>", ["--dump-dom"], timeout=60)
    ...     assert "<p>hi</p>" in result.stdout
    """
    binary = executable or find_chromium()
    if binary is None:
        raise FileNotFoundError("chromium")
    with tempfile.TemporaryDirectory(prefix="fenceline-chromium-") as profile:
        command = [
            binary,
            *BASE_FLAGS,
            *BLOCK_NETWORK_FLAGS,
            f"--user-data-dir={profile}",
            *args,
            url,
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
