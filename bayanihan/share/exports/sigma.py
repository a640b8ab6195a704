"""Sigma rules for proxy and DNS logs (one YAML document per rule, ``---`` between them).

Three rules, each written only when it has values: proxy logs by host (``cs-host``),
proxy logs by URL (``c-uri``), DNS logs by query (``query``). Field names follow Sigma's
taxonomy for the ``proxy`` and ``dns`` categories. Rule ids are stable for a scope.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

from bayanihan.model.stix import format_ms
from bayanihan.share.exports.formats import Context, Format, header_lines

__all__ = ["sigma"]

_NS = uuid.UUID("0f5b7c1e-8d3a-4b2f-9e61-5a7d2c4b8e90")
_RULES = (
    ("proxy-host", "domain", "proxy", "cs-host", "Proxy request to a host"),
    ("proxy-url", "url", "proxy", "c-uri", "Proxy request for a URL"),
    ("dns-query", "domain", "dns", "query", "DNS query for a domain"),
)


def sigma(ctx: Context, fmt: Format) -> Iterator[str]:
    yield "".join(f"# {line}\n" for line in header_lines(ctx, fmt))
    date = format_ms(ctx.now_us)[:10]
    first = True
    for name, kind, category, fieldname, title in _RULES:
        scope = ctx.scope.__class__(**{**ctx.scope.__dict__, "kinds": (kind,)})
        started = False
        for row in ctx.fetch(scope):
            if not started:
                rule_id = uuid.uuid5(_NS, f"{name}|{ctx.reader.org}|{ctx.scope.key()}")
                yield ("" if first else "---\n") + (
                    f"title: Bayanihan - {title} reported to the hub\n"
                    f"id: {rule_id}\n"
                    "status: experimental\n"
                    f"description: {title} that members of the Bayanihan hub reported "
                    "(decayed, revoked and false-positive values left out).\n"
                    "author: Bayanihan hub\n"
                    f"date: {date}\n"
                    "tags:\n"
                    "    - attack.command-and-control\n"
                    f"logsource:\n    category: {category}\n"
                    f"detection:\n    selection:\n        {fieldname}:\n")
                started, first = True, False
            yield f"            - {json.dumps(row.value)}\n"
        if started:
            yield ("    condition: selection\n"
                   "falsepositives:\n    - Values a member reported in error (report them as "
                   "false positives to the hub)\n"
                   "level: high\n")
