"""A batch of reported messages: parsed and checked whole, every error named by index and field.

Input is a JSON array of message objects or JSON lines (one object per line). Fields:

    text          the message as the citizen received it (1..10,000 characters)
    channel       sms | email | chat | voice (a voice call's transcript)
    sender        phone number, e-mail address or handle (alphanumeric sender id, @name)
    country       ISO 3166-1 alpha-2 of where it was received
    received      RFC 3339 time it was received
    reporter_ref  optional: the reporting line's own reference (≤ 200 characters)
    recipient     optional: {"number": ..., "name": ...} of the person who received it; used
                  only to mask them out of the text, never stored

A batch with any bad message is refused whole (422 listing ``messages[i].field``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from bayanihan.errors import InvalidInput, TooLarge, Unprocessable
from bayanihan.ingest.observables import ObservableError, canonical_email, canonical_phone
from bayanihan.ingest.reports import country_code
from bayanihan.model.stix import parse_us

MAX_BATCH = 10_000
MAX_TEXT = 10_000
MAX_SENDER = 200
MAX_REF = 200
MAX_ERRORS = 50
CHANNELS = ("sms", "email", "chat", "voice")
_FIELDS = frozenset({"text", "channel", "sender", "country", "received", "reporter_ref",
                     "recipient"})


@dataclass(frozen=True, slots=True)
class Message:
    """One checked message. ``sender`` is canonical (E.164, lower-case address, handle)."""

    text: str
    channel: str
    sender: str
    country: str
    received_us: int
    reporter_ref: str | None
    recipient_number: str | None
    recipient_name: str | None


def parse_body(raw: bytes) -> list[Any]:
    """The batch as a list of items: a JSON array, or JSON lines."""
    body = raw.strip()
    if not body:
        raise InvalidInput("the body is empty: send a JSON array or JSON lines", ["body"])
    if body[:1] == b"[":
        try:
            items = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"body is not a JSON array: {exc}", ["body"]) from None
    else:
        items = []
        for n, line in enumerate(body.split(b"\n")):
            if not line.strip():
                continue
            try:
                items.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise InvalidInput(f"line {n + 1} is not JSON: {exc}",
                                   [f"messages[{len(items)}]"]) from None
    if not items:
        raise InvalidInput("the batch holds no message: send at least one", ["messages"])
    if len(items) > MAX_BATCH:
        raise TooLarge(f"{len(items)} messages in one batch; at most {MAX_BATCH:,}", ["messages"])
    return items


@lru_cache(maxsize=65_536)
def canonical_sender(sender: str, country: str) -> str:
    """E.164 for a phone number, a lower-cased address for e-mail, else the handle trimmed."""
    text = sender.strip()
    if "@" in text[1:]:
        try:
            return canonical_email(text)
        except ObservableError:
            pass
    if sum(c.isdigit() for c in text) >= 6:
        try:
            return canonical_phone(text, country)
        except ObservableError:
            pass
    return text


@lru_cache(maxsize=4096)
def _country(value: str) -> str:
    return country_code(value)


def _text(item: dict[str, Any], name: str, limit: int, errors: list[tuple[str, str]],
          where: str, required: bool = True) -> str | None:
    value = item.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        errors.append((f"{where}.{name}", "a non-empty string is required"))
        return None
    if len(value) > limit:
        errors.append((f"{where}.{name}", f"longer than {limit:,} characters"))
        return None
    return value


def _recipient(item: dict[str, Any], where: str,
               errors: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    value = item.get("recipient")
    if value is None:
        return None, None
    if not isinstance(value, dict) or set(value) - {"number", "name"}:
        errors.append((f"{where}.recipient", 'an object with "number" and/or "name"'))
        return None, None
    number, name = value.get("number"), value.get("name")
    for key, got in (("number", number), ("name", name)):
        if got is not None and (not isinstance(got, str) or len(got) > MAX_SENDER):
            errors.append((f"{where}.recipient.{key}", f"a string of at most {MAX_SENDER}"))
            return None, None
    return number or None, (name.strip() or None) if name else None


def check_item(item: Any, index: int, errors: list[tuple[str, str]]) -> Message | None:
    """One message, or None with its problems appended to ``errors``."""
    where = f"messages[{index}]"
    if not isinstance(item, dict):
        errors.append((where, "each message must be a JSON object"))
        return None
    before = len(errors)
    if unknown := sorted(set(item) - _FIELDS):
        errors.append((f"{where}.{unknown[0]}", "unknown field"))
    text = _text(item, "text", MAX_TEXT, errors, where)
    channel = item.get("channel")
    if channel not in CHANNELS:
        errors.append((f"{where}.channel", "one of " + ", ".join(CHANNELS)))
    sender = _text(item, "sender", MAX_SENDER, errors, where)
    country = None
    raw_country = item.get("country")
    with contextlib.suppress(ValueError):
        country = _country(raw_country) if isinstance(raw_country, str) else None
    if country is None:
        errors.append((f"{where}.country", "an ISO 3166-1 alpha-2 code such as TH"))
    received = item.get("received")
    received_us = None
    with contextlib.suppress(ValueError):
        received_us = parse_us(received) if isinstance(received, str) else None
    if received_us is None:
        errors.append((f"{where}.received", "an RFC 3339 time such as 2026-11-20T08:00:00Z"))
    ref = _text(item, "reporter_ref", MAX_REF, errors, where, required=False)
    number, name = _recipient(item, where, errors)
    if len(errors) > before:
        return None
    assert text is not None and sender is not None and country is not None
    assert received_us is not None and isinstance(channel, str)
    return Message(text, channel, canonical_sender(sender, country), country, received_us,
                   ref, number, name)


def check_batch(items: list[Any]) -> list[Message]:
    """Every message checked; Unprocessable naming each bad ``messages[i].field``."""
    errors: list[tuple[str, str]] = []
    out: list[Message] = []
    for i, item in enumerate(items):
        msg = check_item(item, i, errors)
        if msg is not None:
            out.append(msg)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        shown = "; ".join(f"{f}: {why}" for f, why in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise Unprocessable(f"{len(errors)} problem(s), nothing stored: {shown}{more}",
                            [f for f, _ in errors])
    return out
