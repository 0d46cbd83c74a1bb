"""The API server starts without the map libraries, which only the map pages need."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_app_imports_without_folium_or_pandas() -> None:
    """Importing the FastAPI app (as ``buuta serve`` does) loads neither folium nor pandas."""
    code = (
        "import sys, api.app\n"
        "heavy = sorted(m for m in ('folium', 'pandas') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.stdout.strip() == "", done.stdout
