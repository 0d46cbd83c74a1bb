"""``buuta demo`` end to end: a planned, simulated Cà Mau day with maps and a report."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, func, select

import tracking
from tests.support.server import ROOT


def test_demo_plans_simulates_and_writes_maps(tmp_path: Path) -> None:
    """The demo stores the plan and the simulated scans in its SQLite file, prints the
    dossiers by status (adding up to the jobs) and each courier's last position, and writes
    the plan, progress and journey maps as offline HTML."""
    out = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "api", "demo", "--jobs", "24", "--time-limit", "2",
         "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    text = done.stdout
    counts = re.findall(r"^  ([a-z_]+)\s+(\d+)$", text.split("Where the dossiers are")[1]
                        .split("Couriers' last positions")[0], flags=re.M)  # fmt: skip
    assert sum(int(n) for _, n in counts) == 24
    assert {s for s, _ in counts} - {"requested", "processing"}, "nothing moved"
    assert re.search(r"^  \S+\s+\d+\.\d{5}, \d+\.\d{5} at \d\d:\d\d$", text, flags=re.M)

    engine = tracking.make_engine(f"sqlite:///{out / 'buuta-demo.sqlite'}")
    try:
        with Session(engine) as session:
            scans = session.exec(select(func.count()).select_from(tracking.ScanEvent)).one()
            flagged = session.exec(
                select(func.count())
                .select_from(tracking.ScanEvent)
                .where(
                    tracking.ScanEvent.flagged == True  # noqa: E712
                )
            ).one()
            dossiers = session.exec(select(func.count()).select_from(tracking.Dossier)).one()
    finally:
        engine.dispose()
    assert dossiers == 24
    assert scans > 24
    assert flagged == 0  # the simulated day follows the life cycle
    for name in ("plan.html", "progress.html"):
        html = (out / name).read_text(encoding="utf-8")
        assert "leaflet" in html.lower()
        assert "https://cdn" not in html  # assets are served from beside the file
    assert list(out.glob("dossier-*.html"))
