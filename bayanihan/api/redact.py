"""Credentials never reach a log, whatever the level and whichever library logs.

At ``debug`` the WebSocket library under uvicorn logs every handshake header, so every
``Authorization: Bearer …`` (the hub admin key too) went to the log in full (issue 13).
:func:`install` wraps the logging record factory, so every record of every logger — the
hub's, uvicorn's, websockets', httpx's — is redacted when it is made, before any handler or
formatter sees it: the value of ``Authorization``, ``Proxy-Authorization``, ``Cookie``,
``Set-Cookie`` and ``X-Api-Key`` headers, and anything shaped like a hub key
(``bh_<key id>_<secret>``: the public key id is kept, the secret is not).
"""

from __future__ import annotations

import logging
import re
from typing import Any

MASK = "[redacted]"
_HEADER = re.compile(
    r"(?i)(\b(?:proxy-)?authorization|\bx-api-key)(['\"]?\s*[:=,]\s*['\"]?)"
    r"(?:(?:bearer|basic|token)\s+)?[^\s'\",;)\]}]+(?:[ \t]+[^\s'\",;)\]}]+)?")
#: a cookie header's whole value (every cookie in it), to the end of the line or quote
_COOKIE = re.compile(r"(?i)(\b(?:set-)?cookie)(['\"]?\s*[:=,]\s*['\"]?)[^'\"\r\n]+")
_KEY = re.compile(r"\b(bh_[0-9a-f]{12})_[A-Za-z0-9_\-]{8,}")
_SECRET = re.compile(r"\bwhsec_[A-Za-z0-9+/=]{8,}")
_HINTS = ("uthorization", "ookie", "-api-key", "bh_", "whsec_", "UTHORIZATION", "OOKIE")


def redact(text: str) -> str:
    """``text`` with credentials masked."""
    if not any(h in text for h in _HINTS):
        return text
    text = _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _COOKIE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _KEY.sub(lambda m: f"{m.group(1)}_{MASK}", text)
    return _SECRET.sub(f"whsec_{MASK}", text)


def _redacted(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it to the handler to report
        return record
    clean = redact(message)
    if clean is not message and clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    return record


_INSTALLED: list[Any] = []


def install() -> None:
    """Redact every log record from now on (idempotent)."""
    if _INSTALLED:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _redacted(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _INSTALLED.append(factory)
