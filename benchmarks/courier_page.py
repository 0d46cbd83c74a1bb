"""How heavy and how quick is the courier's phone page on its first load? (targets: under
300 KB without map tiles, interactive within 1 s with the CPU slowed 4×).

Starts ``buuta serve`` on a SQLite file, plans a courier's day with the real optimizer (by
default the courier phone tests' day, ``harness.days.phone_request``: ``--pickups`` 52
pickups handed over at the post office and 2 results to return, about 59 stops on one
phone, far more than the 10 or so jobs a courier has on a generated Cà Mau day), and opens
``/couriers/c1/stops`` in Debian's headless Chromium at a phone's size, ``--runs`` times,
each in a fresh browser context (empty cache, no service worker yet: a first load). Chrome
DevTools slows the CPU by ``--cpu-slowdown`` (``Emulation.setCPUThrottlingRate``). Prints
the medians of:

- the first-load weight: bytes transferred for the page and everything it loads (navigation
  plus resource ``transferSize``), and the same decoded;
- time to interactive: from navigation start until ``courier.js`` has opened its IndexedDB
  queue and wired every button (its ``buuta-courier-ready`` performance mark);
- DOMContentLoaded and the load event;

and, apart, what the service worker then stores for offline use (its precache list, the
camera decoder included), which is not part of the first load.

    .venv/bin/python benchmarks/courier_page.py --runs 7
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from sqlmodel import Session  # noqa: E402

import tracking  # noqa: E402
from harness.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from harness.days import phone_request  # noqa: E402
from harness.server import serve, sqlite_url  # noqa: E402

PRECACHE_RE = r'"(/[^"]+)"'


def measure(page: Any, url: str, slowdown: float) -> dict[str, float]:
    """Load ``url`` once with the CPU slowed; the weight and timings of that first load."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": slowdown})
    page.goto(url)
    page.wait_for_selector("html[data-courier-ready]", timeout=60_000)
    page.wait_for_load_state("load")
    figures: dict[str, float] = page.evaluate(
        """() => {
          const nav = performance.getEntriesByType("navigation")[0];
          const res = performance.getEntriesByType("resource");
          const ready = performance.getEntriesByName("buuta-courier-ready")[0];
          const sum = (key) => res.reduce((t, r) => t + r[key], 0);
          return {
            transfer: nav.transferSize + sum("transferSize"),
            decoded: nav.decodedBodySize + sum("decodedBodySize"),
            files: 1 + res.length,
            tti_ms: ready ? ready.startTime : NaN,
            dcl_ms: nav.domContentLoadedEventEnd,
            server_ms: nav.responseStart - nav.requestStart,
            html_ms: nav.responseEnd,
            load_ms: nav.loadEventEnd,
          };
        }"""
    )
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    return figures


def precache_bytes(base_url: str) -> tuple[int, int]:
    """Number and total size of the files the service worker keeps for offline use."""
    worker = httpx.get(f"{base_url}/sw.js").text
    listed = worker[worker.index("var PRECACHE") : worker.index("];")]
    paths = re.findall(PRECACHE_RE, listed)
    total = sum(len(httpx.get(base_url + p, cookies={"buuta_lang": "vi"}).content) for p in paths)
    return len(paths), total


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="page loads (default 5)")
    parser.add_argument("--cpu-slowdown", type=float, default=4.0, help="CPU throttling rate")
    parser.add_argument(
        "--pickups", type=int, default=52, help="pickups on the courier's day (default 52)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, serve(sqlite_url(Path(tmp))) as server:
        engine = tracking.make_engine(server.database_url)
        with Session(engine) as session:
            _, dispatcher = tracking.create_user(session=session, name="d1", role="dispatcher")
            _, courier = tracking.create_user(session=session, name="c1", role="courier")
            session.commit()
        engine.dispose()
        day = "2026-11-23"
        answer = httpx.post(
            f"{server.base_url}/v1/plans",
            json=phone_request(day, args.pickups),
            headers={"Authorization": f"Bearer {dispatcher}"},
            timeout=120,
        )
        answer.raise_for_status()
        stops = sum(len(r["stops"]) for r in answer.json()["routes"])
        url = f"{server.base_url}/couriers/c1/stops?date={day}"
        runs = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            for _ in range(args.runs):
                context = browser.new_context(
                    viewport={"width": 390, "height": 844},
                    device_scale_factor=2,
                    is_mobile=True,
                    has_touch=True,
                    service_workers="block",
                    extra_http_headers={"Accept-Language": "vi-VN,vi;q=0.9"},
                )
                context.add_cookies([{"name": "buuta_token", "value": courier, "url": url}])
                runs.append(measure(context.new_page(), url, args.cpu_slowdown))
                context.close()
            browser.close()
        files, stored = precache_bytes(server.base_url)

    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print(f"courier page: {stops} stops on one phone, {args.runs} first loads, "
          f"CPU slowed {args.cpu_slowdown:g}x")  # fmt: skip
    print(f"  first-load weight: {median('transfer') / 1024:.1f} KB transferred "
          f"({median('decoded') / 1024:.1f} KB decoded) in {median('files'):.0f} files "
          "(target < 300 KB; no map tiles)")  # fmt: skip
    each = ", ".join(f"{r['tti_ms']:.0f}" for r in runs)
    print(f"  time to interactive: {median('tti_ms'):.0f} ms median "
          f"(runs: {each}; target < 1000 ms)")  # fmt: skip
    print(f"  DOMContentLoaded {median('dcl_ms'):.0f} ms, load {median('load_ms'):.0f} ms; "
          f"of which the server's answer {median('server_ms'):.0f} ms (HTML received at "
          f"{median('html_ms'):.0f} ms)")  # fmt: skip
    print(f"  kept by the service worker for offline use afterwards: {files} files, "
          f"{stored / 1024:.1f} KB (the camera decoder included)")  # fmt: skip
    ok = median("transfer") < 300 * 1024 and median("tti_ms") < 1000
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
