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


def test_each_engine_module_speaks_one_engine() -> None:
    """``routing/solver.py`` imports OR-Tools and not PyVRP, ``routing/engine_pyvrp.py`` the
    reverse, and ``routing/engines.py``, which chooses between them, imports neither."""
    import ast
    from pathlib import Path

    def engines_imported(module: str) -> set[str]:
        path = Path(__file__).resolve().parents[1] / "routing" / f"{module}.py"
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module.split(".")[0])
        return names & {"ortools", "pyvrp"}

    assert engines_imported("solver") == {"ortools"}
    assert engines_imported("engine_pyvrp") == {"pyvrp"}
    assert engines_imported("engines") == set()
