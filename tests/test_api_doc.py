"""docs/api.md lists every route with who may call it, exactly as the application declares."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_route_table_matches_the_application() -> None:
    spec = importlib.util.spec_from_file_location("api_routes", ROOT / "tools" / "api_routes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    documented = text.split("<!-- routes -->\n")[1].split("<!-- /routes -->")[0]
    assert documented == module.table(), (
        "docs/api.md is out of date: run `python tools/api_routes.py` and paste the table "
        "between the <!-- routes --> markers")
