"""The pure packages stay pure: routing and geo never pull in the web stack, database or maps."""

import subprocess
import sys

FORBIDDEN = ("fastapi", "sqlmodel", "sqlalchemy", "folium", "uvicorn", "api", "tracking")


def test_geo_and_routing_import_without_web_database_or_maps() -> None:
    """A fresh interpreter that imports geo and routing has none of the forbidden modules."""
    code = (
        "import sys, geo, routing\n"
        "import geo.coords\n"
        "import pkgutil, importlib\n"
        "for pkg in (geo, routing):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        f"bad = sorted(m for m in {FORBIDDEN!r} if m in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "", f"geo/routing imported: {done.stdout.strip()}"
