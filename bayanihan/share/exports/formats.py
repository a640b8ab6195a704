"""What every export format shares: the scope, the rows, the spec of a format (media type,
kinds, the TLP levels it may carry) and the comment header each file opens with.

Formats that carry no marking per value (plain lists, RPZ, Suricata, Sigma) end up in
devices and config repositories where nobody reads a TLP label, so they carry only what a
member may pass on inside its organisation and to its clients: **CLEAR, GREEN, AMBER**.
Values for the reader's eyes only (AMBER+STRICT, RED) go only to formats that mark each
value (CSV's ``tlp`` column, STIX ``object_marking_refs``, MISP tags).

The renderers know nothing of where rows come from: a :class:`Context` hands them a
``fetch`` function (the hub's row source lives in ``bayanihan.correlate.value_rows``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import orjson
from sqlalchemy import Connection

from bayanihan.errors import InvalidInput
from bayanihan.model.stix import format_ms, parse_us
from bayanihan.share.policy import Reader

__all__ = ["KINDS", "MARKED_TLPS", "UNMARKED_TLPS", "Context", "Format", "Row", "Scope",
           "header_lines", "parse_scope", "value_pages"]

UNMARKED_TLPS = ("clear", "green", "amber")
MARKED_TLPS = ("clear", "green", "amber", "amber+strict", "red")

#: kind -> what it holds (the plain-list formats, one per kind)
KINDS = {
    "domain": "domain names (IDNA A-label)",
    "url": "URLs (canonical)",
    "ip": "IPv4/IPv6 addresses and CIDR blocks",
    "phone": "phone numbers (E.164)",
    "sha256": "SHA-256 file hashes",
    "tlsh": "TLSH digests (T1 + 70 hex)",
    "email": "e-mail addresses",
    "wallet": "crypto-currency wallets",
}


@dataclass(frozen=True)
class Scope:
    """What to export. Empty fields do not filter."""

    kinds: tuple[str, ...] = ()
    since_us: int | None = None  # indicator versions added after this time (delta)
    vectors: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    campaign: str | None = None
    min_confidence: int = 1
    tlps: tuple[str, ...] = ()  # the TLP levels the format may carry; () = all

    def key(self) -> str:
        return orjson.dumps(self.__dict__, option=orjson.OPT_SORT_KEYS).decode()


@dataclass
class Row:
    """One distinct value as one reader sees it (several indicators may name it)."""

    kind: str
    value: str
    skeleton: str | None
    tlp: str  # the most restrictive TLP among the indicators the reader sees it in
    confidence: int
    first_seen_us: int
    last_seen_us: int
    version_us: int
    indicators: list[str] = field(default_factory=list)
    campaigns: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """One export being written: the reader, the scope, a row source and the time."""

    conn: Connection
    reader: Reader
    scope: Scope
    fetch: Callable[..., Iterator[Row]]  # fetch(scope, context=False)
    now_us: int
    campaigns: Callable[[], set[str]] = set  # the campaigns the reader may see (MISP events)
    #: pages(scope, kind): the distinct values alone, a page at a time, in value order (the
    #: same values ``fetch`` yields, faster); None: taken from ``fetch``
    pages: Callable[[Scope, str], Iterator[list[str]]] | None = None


def value_pages(ctx: Context, kind: str) -> Iterator[list[str]]:
    """The values of ``kind`` in ``ctx.scope`` as pages of text, for the formats that need
    nothing but the value (plain lists, RPZ)."""
    scope = replace(ctx.scope, kinds=(kind,))
    if ctx.pages is not None:
        yield from ctx.pages(scope, kind)
        return
    page: list[str] = []
    for row in ctx.fetch(scope):
        page.append(row.value)
        if len(page) >= 2000:
            yield page
            page = []
    if page:
        yield page


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    kinds: tuple[str, ...]  # () = every kind
    tlps: tuple[str, ...]
    what: str
    render: Callable[[Context], Iterator[str]]
    public: bool = False  # offered in the public (no key) TLP:CLEAR feed


def header_lines(ctx: Context, fmt: Format) -> list[str]:
    """What, when, for whom, which TLP levels: the first lines of every file."""
    s = ctx.scope
    scope = ", ".join(f"{k}={v}" for k, v in (
        ("since", format_ms(s.since_us) if s.since_us else None),
        ("vectors", ",".join(s.vectors)), ("countries", ",".join(s.countries)),
        ("campaign", s.campaign), ("min_confidence", s.min_confidence)) if v) or "all"
    carried = "TLP:" + ", TLP:".join(t.upper() for t in s.tlps or fmt.tlps)
    marking = "marks each value" if "red" in fmt.tlps else "carries no marking"
    return [f"Bayanihan export: {fmt.what}",
            f"generated {format_ms(ctx.now_us)} for {ctx.reader.org or 'the public'}",
            f"scope: {scope}",
            f"TLP levels carried: {carried} (this format {marking})",
            "decayed, revoked, expired and false-positive values left out"]


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(sorted({v.strip() for v in (value or "").split(",") if v.strip()}))


def parse_scope(since: str | None, vector: str | None, country: str | None,
                campaign: str | None, min_confidence: int | None) -> Scope:
    """A Scope from query parameters; InvalidInput naming the parameter."""
    since_us = None
    if since:
        try:
            since_us = parse_us(since if "T" in since else since + "T00:00:00Z")
        except ValueError:
            raise InvalidInput("since: a timestamp (2026-11-20 or 2026-11-20T08:00:00Z)",
                               ["since"]) from None
    countries = tuple(c.upper() for c in _list(country))
    if any(len(c) != 2 or not c.isalpha() for c in countries):
        raise InvalidInput("country: ISO 3166-1 alpha-2 codes, comma-separated", ["country"])
    if min_confidence is not None and not 0 <= min_confidence <= 100:
        raise InvalidInput("min_confidence: 0 to 100", ["min_confidence"])
    if campaign is not None and not campaign.startswith("campaign--"):
        raise InvalidInput("campaign: a campaign id (campaign--…)", ["campaign"])
    return Scope(since_us=since_us, vectors=_list(vector), countries=countries,
                 campaign=campaign, min_confidence=min_confidence or 1)
