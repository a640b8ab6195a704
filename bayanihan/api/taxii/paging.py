"""Opaque ``next`` tokens: the last ``date_added`` of a page, signed for one query and caller.

A token is ``<after>.<mac>``: ``after`` is the page's last ``date_added`` (µs, base 36), and
``mac`` an HMAC-SHA256 (truncated to 128 bits) over ``after``, the caller and the request
(endpoint and every filter except ``limit`` and ``next``) with the hub's paging secret.
Nothing is kept on the server, so a token never expires: a slow client resumes whenever it
likes and never skips an object (``date_added`` is unique and strictly increasing). A token
used with other filters, on another endpoint or by another key is answered 400.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from bayanihan.errors import InvalidInput
from bayanihan.share.policy import Reader

MAC_BYTES = 16


def binding(reader: Reader, endpoint: str, params: Iterable[tuple[str, str]]) -> bytes:
    """What a token is bound to: the caller, the endpoint and the filters."""
    who = f"{reader.org}/{reader.key_id}" if reader.authenticated else "public"
    kept = sorted((k, v) for k, v in params if k not in ("limit", "next"))
    text = "\n".join([who, endpoint] + [f"{k}={v}" for k, v in kept])
    return text.encode()


def _mac(secret: bytes, after: str, bound: bytes) -> str:
    digest = hmac.new(secret, after.encode() + b"\0" + bound, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:MAC_BYTES]).rstrip(b"=").decode()


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def make_token(secret: bytes, after_us: int, bound: bytes) -> str:
    after = _base36(after_us)
    return f"{after}.{_mac(secret, after, bound)}"


def read_token(secret: bytes, token: str, bound: bytes) -> int:
    """The ``date_added`` a token continues after; 400 when it is not valid here."""
    after, sep, mac = token.partition(".")
    try:
        value = int(after, 36) if sep and after else -1
    except ValueError:
        value = -1
    if value < 0 or not hmac.compare_digest(mac, _mac(secret, after, bound)):
        raise InvalidInput("next is not a token this server gave for this request: repeat the "
                           "same filters with the same key, or start again without next", ["next"])
    return value
