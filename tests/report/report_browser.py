"""Render a page in real headless Chromium (network blocked) and report what happened.

A probe script is injected first thing in ``<head>`` of a copy of the page. It records
uncaught errors, ``console.error`` calls, failed resource loads, every resource the page
loaded (Resource Timing), Content-Security-Policy violations and any fetch / XHR / WebSocket /
beacon attempt; then, after the page settled, it writes them as JSON into the DOM, which
``--dump-dom`` returns. Chromium's own console log (``--enable-logging=stderr``) is captured
too, as a second witness, and Chromium's NetLog (``--log-net-log``) as a third: it records
every URL request the network stack started, whatever the page did to hide it; the requests
the page itself started are those whose network isolation key is the page's (``file://``)
site, not Chromium's own background traffic (which the blocked resolver fails anyway).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fenceline.report.chromium import find_chromium, run_chromium

PROBE = r"""<script>
(function () {
  var probe = window.__probe = { errors: [], console_errors: [], failed: [], csp: [], attempts: [] };
  window.addEventListener("error", function (e) {
    if (e.target && e.target !== window && (e.target.src || e.target.href)) {
      probe.failed.push(String(e.target.src || e.target.href));
    } else {
      probe.errors.push(String(e.message || e.error));
    }
  }, true);
  window.addEventListener("unhandledrejection", function (e) { probe.errors.push("unhandled: " + String(e.reason)); });
  document.addEventListener("securitypolicyviolation", function (e) { probe.csp.push(e.blockedURI + " " + e.violatedDirective); });
  var error = console.error;
  console.error = function () { probe.console_errors.push(Array.prototype.join.call(arguments, " ")); return error.apply(console, arguments); };
  var fetch0 = window.fetch;
  window.fetch = function (u) { probe.attempts.push("fetch " + u); return fetch0.apply(this, arguments); };
  var open0 = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (m, u) { probe.attempts.push("xhr " + u); return open0.apply(this, arguments); };
  var WS = window.WebSocket;
  window.WebSocket = function (u) { probe.attempts.push("websocket " + u); return new WS(u); };
  if (navigator.sendBeacon) { var b = navigator.sendBeacon.bind(navigator); navigator.sendBeacon = function (u, d) { probe.attempts.push("beacon " + u); return b(u, d); }; }
  window.addEventListener("load", function () {
    setTimeout(function () {
      probe.resources = performance.getEntriesByType("resource").map(function (r) { return r.name; });
      var map = document.getElementById("map");
      probe.map_features = map ? Number(map.getAttribute("data-features-drawn") || 0) : 0;
      probe.map_canvas = map ? map.querySelectorAll("canvas").length : 0;
      probe.map_paths = map ? map.querySelectorAll("path").length : 0;
      probe.charts = document.querySelectorAll("svg.chart").length;
      // the before/after switch: what the map shows for each date
      probe.shown = {};
      if (map) {
        probe.shown[map.getAttribute("data-epoch")] = Number(map.getAttribute("data-shown"));
        document.querySelectorAll("input[name=epoch]").forEach(function (input) {
          input.checked = true;
          input.dispatchEvent(new Event("change"));
          probe.shown[map.getAttribute("data-epoch")] = Number(map.getAttribute("data-shown"));
        });
      }
      var pre = document.createElement("pre");
      pre.id = "fenceline-probe";
      pre.textContent = JSON.stringify(probe);
      document.body.appendChild(pre);
    }, 300);
  });
})();
</script>"""


@dataclass
class Rendered:
    errors: list[str]
    console_errors: list[str]
    chromium_console: list[str]
    failed: list[str]
    csp: list[str]
    attempts: list[str]
    resources: list[str]
    map_features: int
    shown: dict[str, int]
    charts: int
    dom: str
    netlog_requests: list[str]

    @property
    def network_requests(self) -> list[str]:
        """Everything that went, or tried to go, beyond the page itself."""
        return [*self.resources, *self.failed, *self.attempts, *self.csp, *self.netlog_requests]


def page_requests_in_netlog(path: Path) -> list[str]:
    """URLs of the requests a ``file://`` page started, from a Chromium NetLog file."""
    text = path.read_text(encoding="utf-8").rstrip()
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # Chromium killed before it closed the array
        log = json.loads(text.rstrip(",") + "]}")
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    out = []
    for event in log.get("events", []):
        params = event.get("params") or {}
        url = str(params.get("url", ""))
        if event.get("type") != start or url.startswith(("file:", "data:", "blob:")):
            continue
        if "file://" in str(params.get("network_isolation_key", "")):
            out.append(url)
    return out


def chromium_or_none() -> str | None:
    return find_chromium()


def render(page: Path, *, budget_ms: int = 6000) -> Rendered:
    """Load ``page`` (a copy, with the probe) in Chromium and return what the probe saw."""
    text = page.read_text(encoding="utf-8")
    head = re.search(r"<head[^>]*>", text)
    cut = head.end() if head else 0
    with tempfile.TemporaryDirectory(prefix="fenceline-probe-") as tmp:
        copy = Path(tmp) / page.name
        copy.write_text(text[:cut] + PROBE + text[cut:], encoding="utf-8")
        netlog = Path(tmp) / "netlog.json"
        result = run_chromium(
            copy.as_uri(),
            [
                "--dump-dom",
                f"--virtual-time-budget={budget_ms}",
                "--enable-logging=stderr",
                "--v=0",
                "--window-size=1280,1600",
                f"--log-net-log={netlog}",
                "--net-log-capture-mode=Default",
            ],
            timeout=90,
        )
        if not netlog.exists():
            raise AssertionError("Chromium wrote no NetLog")
        netlog_requests = page_requests_in_netlog(netlog)
    match = re.search(r'<pre id="fenceline-probe">(.*?)</pre>', result.stdout, re.S)
    if match is None:
        raise AssertionError(f"the probe did not report; chromium stderr:\n{result.stderr[-2000:]}")
    import html

    probe = json.loads(html.unescape(match.group(1)))
    chromium_console = [
        line
        for line in result.stderr.splitlines()
        if ":CONSOLE" in line and ("Uncaught" in line or "rror" in line)
    ]
    return Rendered(
        errors=probe["errors"],
        console_errors=probe["console_errors"],
        chromium_console=chromium_console,
        failed=probe["failed"],
        csp=probe["csp"],
        attempts=probe["attempts"],
        resources=probe.get("resources", []),
        map_features=int(probe.get("map_features", 0)),
        shown={str(k): int(v) for k, v in (probe.get("shown") or {}).items()},
        charts=int(probe.get("charts", 0)),
        dom=result.stdout,
        netlog_requests=netlog_requests,
    )


def screenshot(page: Path, out: Path, *, width: int = 1280, height: int = 2400) -> Path:
    """A PNG screenshot of the page's top ``height`` pixels."""
    result = run_chromium(
        page.resolve().as_uri(),
        [f"--screenshot={out}", f"--window-size={width},{height}", "--virtual-time-budget=6000"],
        timeout=90,
    )
    if not out.exists():
        raise AssertionError(f"no screenshot; chromium stderr:\n{result.stderr[-2000:]}")
    return out


def non_blank_fraction(png: Path) -> float:
    """Fraction of pixels that are not (near) white."""
    import matplotlib.image

    pixels = matplotlib.image.imread(str(png))[..., :3]
    return float((pixels.min(axis=2) < 0.94).mean())


def copy_into(page: Path, directory: Path) -> Path:
    target = directory / page.name
    shutil.copy(page, target)
    return target
