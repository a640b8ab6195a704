"""E-mail addresses: local part kept as written, domain as lower-case IDNA A-label."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .domains import normalize_domain
from .hosts import host_pattern, known_suffix
from .observable import ObservableError
from .refang import refang

__all__ = ["canonical_email", "find_emails"]

_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+)*"
_EMAIL = re.compile(rf"(?<![A-Za-z0-9!#$%&'*+/=?^_`{{|}}~.\-])(?P<local>{_LOCAL})@(?P<host>{host_pattern()})")
_WHOLE = re.compile(rf"(?P<local>{_LOCAL})@(?P<host>[^@\s]+)")
_MAX_LOCAL = 64


def canonical_email(text: str) -> str:
    """Canonicalise one e-mail address (defanged or not); raise ObservableError otherwise."""
    raw = refang(text).strip()
    match = _WHOLE.fullmatch(raw)
    if match is None or len(match.group("local")) > _MAX_LOCAL:
        raise ObservableError("email-addr", text, "expected local-part@domain")
    host = normalize_domain(match.group("host")).ascii
    return f"{match.group('local')}@{host}"


def find_emails(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield (canonical, start, end) for e-mail addresses in already refanged text."""
    for match in _EMAIL.finditer(text):
        if not known_suffix(match.group("host")):
            continue
        try:
            yield canonical_email(match.group(0)), match.start(), match.end()
        except ObservableError:
            continue
