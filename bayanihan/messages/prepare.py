"""The CPU stage of intake, run before the write transaction: mask, normalise, fingerprint.

Masking: the recipient's own number (any way it is written, matched by ``phonenumbers`` in
the receiving country's plan) and name are replaced by ``[recipient number]`` and
``[recipient]`` before the text goes anywhere but the raw-message table. Normalisation is the
lure index's (:func:`bayanihan.correlate.lure_text.normalise`), so a lure folded here is the
same lure the report linker sees; exact copies share the hash of their normalised text.
Results are cached per text: in a scam wave most messages repeat one another word for word.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

from bayanihan.correlate import infrastructure
from bayanihan.correlate.lure_text import normalise
from bayanihan.correlate.lures import shingle_hashes, signature
from bayanihan.ingest.observables import ObservableError, canonical_phone, extract
from bayanihan.ingest.observables.phones import find_phones
from bayanihan.messages.batch import Message

MAX_OBSERVABLES = 20
_STIX_TYPE = {"phone-number": "bayanihan-phone-number", "crypto-wallet": "bayanihan-crypto-wallet"}


@dataclass(frozen=True, slots=True)
class Prepared:
    """What intake needs of one message's (masked) text."""

    sample: str  # the text with the recipient masked
    text_hash: bytes  # 16 bytes of BLAKE2b over the normalised text
    signature: bytes | None  # MinHash, uint32 little-endian; None when nothing is left
    values: frozenset[tuple[str, str]]  # infrastructure link values (kind, value)


def mask(msg: Message) -> str:
    """The text with the recipient's own number and name replaced."""
    text = msg.text
    if msg.recipient_number:
        try:
            mine = canonical_phone(msg.recipient_number, msg.country)
        except ObservableError:
            mine = None
        if mine:
            for found in reversed(list(find_phones(text, msg.country))):
                if found.e164 == mine:
                    text = text[:found.start] + "[recipient number]" + text[found.end:]
        digits = re.sub(r"\D", "", msg.recipient_number)
        if len(digits) >= 6 and digits in text:
            text = text.replace(digits, "[recipient number]")
    if msg.recipient_name:
        for part in sorted({msg.recipient_name, *msg.recipient_name.split()}, key=len,
                           reverse=True):
            if len(part) >= 3:
                text = re.sub(re.escape(part), "[recipient]", text, flags=re.IGNORECASE)
    return text


@lru_cache(maxsize=20_000)
def analyse(sample: str, country: str) -> Prepared:
    """Normalised-text hash, MinHash and link values of one masked text (cached)."""
    norm = normalise(sample)
    text_hash = hashlib.blake2b(norm.encode("utf-8"), digest_size=16).digest()
    sh = shingle_hashes(norm)
    sig = signature(sh).astype("<u4").tobytes() if len(sh) else None
    found = [{"type": _STIX_TYPE.get(o.kind, o.kind), "value": o.value}
             for o in extract(sample, country)[:MAX_OBSERVABLES]]
    return Prepared(sample, text_hash, sig, frozenset(infrastructure.values_of(found)))


def prepare(messages: list[Message]) -> list[Prepared]:
    """One :class:`Prepared` per message, in order."""
    return [analyse(mask(m) if (m.recipient_number or m.recipient_name) else m.text, m.country)
            for m in messages]
