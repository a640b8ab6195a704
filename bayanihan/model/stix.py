"""Small STIX 2.1 helpers: ids, timestamps, object kinds."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from functools import lru_cache

#: STIX 2.1 cyber-observable types (they carry no created_by_ref/created/modified).
SCO_TYPES = frozenset(
    {
        "artifact", "autonomous-system", "directory", "domain-name", "email-addr",
        "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
        "network-traffic", "process", "software", "url", "user-account",
        "windows-registry-key", "x509-certificate",
    }
)
#: The hub's own SCO types (extension-definitions in ingest/observables/stix.py): phone
#: numbers and crypto wallets, which STIX 2.1 has no observable for.
HUB_SCO_TYPES = frozenset({"bayanihan-phone-number", "bayanihan-crypto-wallet"})
META_TYPES = frozenset({"marking-definition", "language-content", "extension-definition"})

NAMESPACE_BAYANIHAN = uuid.UUID("6f1c2a4e-9b7d-5e3a-8c21-4d0f7a9b3e55")


def is_sco(stix_type: str) -> bool:
    return stix_type in SCO_TYPES or stix_type in HUB_SCO_TYPES or (
        stix_type.startswith("x-") and stix_type.endswith("-observable")
    )


def new_id(stix_type: str) -> str:
    return f"{stix_type}--{uuid.uuid4()}"


def stable_id(stix_type: str, name: str) -> str:
    """A deterministic id (UUIDv5 in the hub's namespace) for hub-made objects."""
    return f"{stix_type}--{uuid.uuid5(NAMESPACE_BAYANIHAN, stix_type + ':' + name)}"


def now_us() -> int:
    return int(datetime.now(UTC).timestamp() * 1_000_000)


def format_us(us: int) -> str:
    """Microseconds since the epoch -> STIX timestamp with microsecond precision."""
    seconds, micros = divmod(us, 1_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{micros:06d}Z"


def format_ms(us: int) -> str:
    """Microseconds since the epoch -> STIX timestamp with millisecond precision."""
    seconds, micros = divmod(us, 1_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{micros // 1000:03d}Z"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_MILLIS_Z = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")


@lru_cache(maxsize=8192)
def parse_us(text: str) -> int:
    """A STIX/RFC 3339 timestamp (``Z`` or an offset) -> microseconds since the epoch.

    Raises ValueError naming the problem. Cached: bulk imports repeat timestamps.
    """
    if not isinstance(text, str) or len(text) < 20:
        raise ValueError(f"not a timestamp: {text!r}")
    if _MILLIS_Z.fullmatch(text):
        try:  # the common form, 2021-03-02T13:57:47.582Z: one C call
            delta = datetime.fromisoformat(text[:19]) - _NAIVE_EPOCH
            return (delta.days * 86_400 + delta.seconds) * 1_000_000 + int(text[20:23]) * 1000
        except ValueError:
            pass  # the general path below says what is wrong
    raw = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    frac = ""
    if "." in raw[19:]:
        head, rest = raw[:19], raw[20:]
        digits = len(rest) - len(rest.lstrip("0123456789"))
        frac, raw = rest[:digits], head + rest[digits:]
        if not frac:
            raise ValueError(f"not a timestamp: {text!r}")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"not a timestamp: {text!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without time zone: {text!r}")
    delta = moment - _EPOCH
    micros = int((frac + "000000")[:6]) if frac else 0
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + micros


def version_of(obj: dict[str, object]) -> str | None:
    """The version string TAXII uses: ``modified``, else ``created``, else None."""
    value = obj.get("modified") or obj.get("created")
    return value if isinstance(value, str) else None
