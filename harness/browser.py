"""Debian's headless Chromium as the tests and the benchmarks start it (never a downloaded browser).

Without the background-networking flags Chromium keeps trying Google's hosts, which this
machine's closed network refuses.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
