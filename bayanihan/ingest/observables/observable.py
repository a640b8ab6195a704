"""The Observable value type shared by every extractor, and the error they raise."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

__all__ = ["KINDS", "Observable", "ObservableError", "scan"]

KINDS = (
    "url",
    "domain-name",
    "email-addr",
    "ipv4-addr",
    "ipv6-addr",
    "phone-number",
    "file-hash",
    "crypto-wallet",
)


class ObservableError(ValueError):
    """An indicator that cannot be normalised; names the kind and the offending text."""

    def __init__(self, kind: str, text: str, reason: str) -> None:
        shown = text if len(text) <= 80 else text[:77] + "..."
        super().__init__(f"invalid {kind} {shown!r}: {reason}")
        self.kind = kind
        self.text = text
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Observable:
    """One typed, normalised indicator found in free text.

    ``value`` is the canonical form (what de-duplication and matching use); ``text`` and
    ``span`` are what the analyst wrote, in the source text; ``extra`` holds derived forms
    (``unicode``, ``skeleton``, ``registered_domain``, ``hash_type``, ``chain``...).
    """

    kind: str
    value: str
    text: str = ""
    span: tuple[int, int] = (0, 0)
    extra: tuple[tuple[str, str], ...] = field(default=())

    def get(self, key: str, default: str | None = None) -> str | None:
        """Return one derived form by name."""
        for name, value in self.extra:
            if name == key:
                return value
        return default

    @property
    def key(self) -> tuple[str, str]:
        """Identity used for de-duplication."""
        return self.kind, self.value


def scan(
    pattern: re.Pattern[str], canonical: Callable[[str], tuple[str, str]], text: str
) -> Iterator[tuple[str, str, int, int]]:
    """Yield (value, subtype, start, end) for each match that ``canonical`` accepts."""
    for match in pattern.finditer(text):
        try:
            value, subtype = canonical(match.group(0))
        except ObservableError:
            continue
        yield value, subtype, match.start(), match.end()
