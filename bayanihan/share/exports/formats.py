"""What every export format shares: its spec (media type, kinds, the TLP levels it may
carry) and the comment header each file opens with.

Formats that carry no marking per value (plain lists, RPZ, Suricata, Sigma) end up in
devices and config repositories where nobody reads a TLP label, so they carry only what a
member may pass on inside its organisation and to its clients: **CLEAR, GREEN, AMBER**.
Values for the reader's eyes only (AMBER+STRICT, RED) go only to formats that mark each
value (CSV's ``tlp`` column, STIX ``object_marking_refs``, MISP tags).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Connection

from bayanihan.model.stix import format_ms
from bayanihan.share.exports.source import Row, Scope
from bayanihan.share.policy import Reader

__all__ = ["MARKED_TLPS", "UNMARKED_TLPS", "Context", "Format", "header_lines"]

UNMARKED_TLPS = ("clear", "green", "amber")
MARKED_TLPS = ("clear", "green", "amber", "amber+strict", "red")


@dataclass(frozen=True)
class Context:
    """One export being written: the reader, the scope, a row source and the time."""

    conn: Connection
    reader: Reader
    scope: Scope
    fetch: Callable[..., Iterator[Row]]  # fetch(scope, context=False)
    now_us: int
    base_url: str = ""


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
