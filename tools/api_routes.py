"""Print the route table of docs/api.md from the live application's own declarations.

    python tools/api_routes.py           # print it
    python tools/api_routes.py --write   # rewrite it between the markers in docs/api.md

``tests/test_api_doc.py`` fails when docs/api.md and the application disagree.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bayanihan.api.access import Access, endpoints
from bayanihan.api.app import create_app
from bayanihan.config import Settings

READS = {"policy": "answers filtered by TLP", "public": "nothing confidential",
         "own": "the caller's own organisation's records", "admin": "administration"}


def who(rule: Access | None) -> str:
    if rule is None:
        return "—"
    d = rule.describe()
    roles = ", ".join("anyone (no key)" if r == "public" else r for r in d["roles"])
    where = []
    if d["kinds"]:
        where.append("kinds: " + ", ".join(d["kinds"]))
    if d["orgs"]:
        where.append("orgs: " + ", ".join(d["orgs"]))
    return f"{roles}" + (f" ({'; '.join(where)})" if where else "") + f"; {READS[d['reads']]}"


def table() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(database_url=f"sqlite:///{tmp}/routes.db", data_dir=tmp))
        doc = app.openapi()
        rows = []
        for ep in sorted(endpoints(app), key=lambda e: (e.path, sorted(e.methods))):
            if ep.rule is None:
                continue
            methods = "WS" if ep.websocket else " ".join(sorted(ep.methods - {"HEAD"})) or "GET"
            item = doc.get("paths", {}).get(ep.path, {})
            summary = next((op.get("summary", "") for m, op in item.items()
                            if m.upper() in ep.methods), "")
            if not summary:
                summary = ("files shipped with the hub (styles, scripts, API-docs assets)"
                           if ep.path.startswith("/static") else
                           "the same, without the trailing slash"
                           if ep.path.startswith("/taxii2") else
                           "WebSocket: the live stream" if ep.websocket else "web page")
            rows.append(f"| `{methods}` | `{ep.path}` | {summary} | {who(ep.rule)} |")
    head = "| method | route | what | who may call it |\n|---|---|---|---|\n"
    return head + "\n".join(rows) + "\n"


def write(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    head, _, rest = text.partition("<!-- routes -->\n")
    _, _, tail = rest.partition("<!-- /routes -->")
    doc.write_text(f"{head}<!-- routes -->\n{table()}<!-- /routes -->{tail}", encoding="utf-8")


if __name__ == "__main__":
    if "--write" in sys.argv:
        write(Path(__file__).resolve().parents[1] / "docs" / "api.md")
    else:
        sys.stdout.write(table())
