"""Refang defanged indicators (``hxxp``, ``[.]``, ``(dot)``, ``[@]``, ``[:]``...) and defang them.

Refanging keeps a map from every character of the result back to the source text so that
extracted observables can point at the span an analyst pasted. Only bracketed forms are
rewritten (``example [.] com``, ``a (at) b``); a bare `` dot `` or a sentence full stop is left
alone, because free text in any language is full of those. Invisible characters used to
break links (zero-width space, word joiner, soft hyphen, BOM) are removed; ZWJ/ZWNJ are kept
because several regional scripts need them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Refanged", "defang", "refang", "refang_with_map"]

_OPEN = r"[\[\(\{<]"
_CLOSE = r"[\]\)\}>]"
_SP = r"[ \t\u00a0\u3000]*"

# One alternation, tried left to right; each named group maps to its fanged replacement.
_DEFANG = re.compile(
    rf"(?P<scheme>(?<![A-Za-z])[hH][xX*]{{2}}[pP](?P<s>[sS]?)"
    rf"(?=(?:{_SP}{_OPEN}{_SP}:{_SP}{_CLOSE}|:)))"
    rf"|(?P<dot>{_SP}{_OPEN}{_SP}(?:\.|dot|DOT|Dot){_SP}{_CLOSE}{_SP})"
    rf"|(?P<at>{_SP}{_OPEN}{_SP}(?:@|at|AT|At){_SP}{_CLOSE}{_SP})"
    rf"|(?P<colon>{_OPEN}{_SP}:{_SP}(?:{_CLOSE}|(?P<slashes>//{_SP}{_CLOSE})))"
    rf"|(?P<slash>{_OPEN}/{_CLOSE}|\\/)"
    r"|(?P<wide>(?<=[0-9A-Za-z\-])[\uff0e\u3002\uff61](?=[0-9A-Za-z]))"
    r"|(?P<invisible>[\u00ad\u200b\u2060\ufeff])"
)
_TRIGGER = re.compile(r"[\\\[\(\{<\uff0e\u3002\uff61\u00ad\u200b\u2060\ufeff]|[hH][xX*]")
_REPLACE = {"dot": ".", "at": "@", "slash": "/", "wide": ".", "invisible": ""}
_MAX_PASSES = 4


@dataclass(frozen=True, slots=True)
class Refanged:
    """Refanged text and, for each of its characters, the index of the source character."""

    text: str
    source: tuple[int, ...] | None  # None: the text is unchanged (identity map)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the refanged text back to the source text."""
        if self.source is None:
            return start, end
        if end <= start:
            return self.source[start] if start < len(self.source) else start, start
        return self.source[start], self.source[end - 1] + 1


def _replacement(match: re.Match[str]) -> str:
    kind = match.lastgroup
    if kind == "scheme":
        return "http" + ("s" if match.group("s") else "")
    if kind == "colon":
        return "://" if match.group("slashes") else ":"
    return _REPLACE[kind or "dot"]


def _one_pass(text: str) -> tuple[str, list[int]] | None:
    pieces: list[str] = []
    source: list[int] = []
    last = 0
    for match in _DEFANG.finditer(text):
        start, end = match.span()
        if match.lastgroup == "scheme":
            end = match.end("scheme")
        pieces.append(text[last:start])
        source.extend(range(last, start))
        new = _replacement(match)
        pieces.append(new)
        # Every replacement character points at the start of the defanged token.
        source.extend([start] * len(new))
        last = end
    if last == 0:
        return None
    pieces.append(text[last:])
    source.extend(range(last, len(text)))
    return "".join(pieces), source


def refang_with_map(text: str) -> Refanged:
    """Refang ``text`` and keep the character map back to it."""
    if not _TRIGGER.search(text):
        return Refanged(text, None)
    current = text
    mapping: list[int] | None = None
    for _ in range(_MAX_PASSES):
        result = _one_pass(current)
        if result is None:
            break
        current, step = result
        mapping = step if mapping is None else [mapping[i] for i in step]
    return Refanged(current, None if mapping is None else tuple(mapping))


def refang(text: str) -> str:
    """Return ``text`` with defanged indicators turned back into their live form."""
    return refang_with_map(text).text


_FANGED_SCHEME = re.compile(r"(?i)\bhttp(s?)://")
_FANGED_AT = re.compile(r"@")


def defang(indicator: str) -> str:
    """Defang one indicator the common way (``hxxps://example[.]com``, ``a[@]b[.]c``)."""
    out = _FANGED_SCHEME.sub(lambda m: "hxxp" + m.group(1) + "://", indicator)
    scheme, sep, rest = out.partition("://")
    if not sep:
        scheme, rest = "", out
    host_end = len(rest)
    for stop in "/?#":
        pos = rest.find(stop)
        if pos != -1:
            host_end = min(host_end, pos)
    host = rest[:host_end].replace(".", "[.]")
    host = _FANGED_AT.sub("[@]", host)
    return f"{scheme}{sep}{host}{rest[host_end:]}"
