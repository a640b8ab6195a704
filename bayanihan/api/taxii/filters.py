"""TAXII URL filters (``added_after``, ``limit``, ``next``, ``match[...]``) -> :class:`Filters`.

Several values in one field (comma-separated, or the parameter repeated) are OR-ed;
different fields are AND-ed. Filters an endpoint does not support are ignored, as the
specification allows; a malformed value is answered 400 naming the parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from bayanihan.errors import InvalidInput
from bayanihan.model.stix import parse_us
from bayanihan.share.collections import VERSION_WORDS, Filters

#: Filters each kind of endpoint understands.
FOR_OBJECTS = frozenset({"added_after", "limit", "next", "match[id]", "match[type]",
                         "match[version]", "match[spec_version]"})
FOR_OBJECT = frozenset({"added_after", "limit", "next", "match[version]", "match[spec_version]"})
FOR_VERSIONS = frozenset({"added_after", "limit", "next", "match[spec_version]"})
FOR_DELETE = frozenset({"match[version]", "match[spec_version]"})


@dataclass(frozen=True)
class Query:
    filters: Filters
    limit: int
    next: str | None
    params: list[tuple[str, str]]  # the filters as given, for binding ``next`` tokens


def _values(request: Request, name: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in request.query_params.getlist(name):
        out.extend(v.strip() for v in raw.split(",") if v.strip())
    return tuple(dict.fromkeys(out))


def _timestamp(text: str, name: str) -> int:
    try:
        return parse_us(text)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {exc} (use a STIX timestamp such as "
                           "2026-11-01T00:00:00.000Z)", [name]) from None


def parse(request: Request, allowed: frozenset[str], page_max: int) -> Query:
    params = [(k, v) for k, v in request.query_params.multi_items() if k in allowed]
    added = _values(request, "added_after") if "added_after" in allowed else ()
    if len(added) > 1:
        raise InvalidInput("added_after takes one timestamp", ["added_after"])
    limit = page_max
    if "limit" in allowed and request.query_params.get("limit") is not None:
        raw = request.query_params["limit"]
        if not raw.isdigit() or int(raw) < 1:
            raise InvalidInput(f"limit must be a whole number of at least 1 (got {raw!r})",
                               ["limit"])
        limit = min(int(raw), page_max)
    versions: list[str] = []
    for token in _values(request, "match[version]") if "match[version]" in allowed else ():
        versions.append(token if token in VERSION_WORDS
                        else str(_timestamp(token, "match[version]")))

    def field(name: str) -> tuple[str, ...]:
        return _values(request, name) if name in allowed else ()

    filters = Filters(
        added_after=_timestamp(added[0], "added_after") if added else None,
        ids=field("match[id]"), types=field("match[type]"), versions=tuple(versions),
        spec_versions=field("match[spec_version]"),
    )
    nxt = request.query_params.get("next") if "next" in allowed else None
    return Query(filters, limit, nxt or None, params)
