"""The notebooks run from top to bottom on a small day, so they cannot rot.

Each notebook is committed without outputs; the test replaces its ``parameters`` cell with a
small day and short solver limits, executes it with nbclient on the venv's ipykernel, and
checks that the cells produced what they promise (the map file, the plots).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


def run(name: str, parameters: str, tmp_path: Path) -> nbformat.NotebookNode:
    """Execute notebook ``name`` with its parameters cell replaced; return the executed book."""
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    cells = [c for c in book.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{name} needs exactly one cell tagged 'parameters'"
    cells[0].source = parameters
    client = NotebookClient(
        book,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.execute()
    return book


def outputs_text(book: nbformat.NotebookNode) -> str:
    """All stream and text outputs of an executed notebook, joined."""
    parts = []
    for cell in book.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.slow
def test_notebooks_are_committed_without_outputs() -> None:
    """No committed notebook carries outputs or execution counts (they would go stale)."""
    books = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert {b.name for b in books} >= {"a_day_in_ca_mau.ipynb", "kpi_week.ipynb"}
    for path in books:
        book = nbformat.read(path, as_version=4)
        for cell in book.cells:
            if cell.cell_type == "code":
                assert not cell.outputs, path.name
                assert cell.execution_count is None, path.name


@pytest.mark.slow
def test_a_day_in_ca_mau_plans_checks_and_draws(tmp_path: Path) -> None:
    """The day notebook plans 25 jobs, finds no violation and writes an offline map file."""
    out = tmp_path / "nb"
    book = run(
        "a_day_in_ca_mau.ipynb",
        f'JOBS = 25\nSEED = 2\nDATE = "2026-11-24"\nTIME_LIMIT_S = 2.0\nOUT_DIR = {str(out)!r}\n',
        tmp_path,
    )
    text = outputs_text(book)
    assert "0 violation(s)" in text
    page = out / "plan-2026-11-24.html"
    assert page.is_file()
    assert (out / "static" / "leaflet" / "leaflet.js").is_file()
    assert "L.polyline(" in page.read_text(encoding="utf-8")
    last = book.cells[-1].outputs
    assert any("iframe" in o.get("data", {}).get("text/html", "") for o in last)


@pytest.mark.slow
def test_kpi_week_measures_and_plots_five_days(tmp_path: Path) -> None:
    """The KPI notebook plans and lives five small days and draws a figure of four plots."""
    book = run(
        "kpi_week.ipynb",
        "JOBS_PER_DAY = 20\n"
        'DAYS = ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]\n'
        "TIME_LIMIT_S = 1.0\nSEED = 3\nVND_PER_KM = 700\nVND_PER_HOUR = 35_000\n"
        "LEG_SIGMA = 0.25\n",
        tmp_path,
    )
    text = outputs_text(book)
    assert text.count("served,") == 5
    assert "week: on time" in text
    last = book.cells[-1].outputs
    assert any("image/png" in o.get("data", {}) for o in last)
