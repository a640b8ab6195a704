"""Duplicate keys in a JSON body are refused (400 naming the key), on every route.

RFC 8259 leaves a repeated key's meaning to the parser; ours (orjson, the standard
library) keep the last one, so ``{"tlp": "red", "tlp": "clear"}`` was stored as CLEAR while
another parser (a member's SIEM, the author's own tool) reads RED. The hub therefore refuses
such a body outright instead of picking one. The check is the standard library's C parser
with a hook per JSON object, run once per JSON request body before any route reads it;
bodies that are not JSON at all are left to the route, which names the problem itself.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bayanihan.api.errors import error_response


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return found


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs)


def duplicate_key(raw: bytes) -> str | None:
    """The first key repeated within one JSON object of ``raw``; None when there is none
    (or when ``raw`` is not JSON: the route reports that)."""
    try:
        _DECODER.decode(raw.decode("utf-8"))
    except DuplicateKey as exc:
        return exc.key
    except (ValueError, RecursionError):
        return None
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media.endswith(b"/json") or media.endswith(b"+json")
    return False


class RefuseDuplicateKeys:
    """ASGI middleware: reads a JSON request body once, refuses it if a key repeats, and
    hands the same bytes to the route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        key = duplicate_key(body) if body else None
        if key is not None:
            shown = key if len(key) <= 80 else key[:77] + "..."
            response = error_response(scope.get("path", ""), 400, "duplicate-key",
                                      f"the key {shown!r} occurs twice in one JSON object; "
                                      "send each key once", [shown])
            await response(scope, receive, send)
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body,
                                        "more_body": False}], receive), send)


def _replay(first: list[Message], receive: Receive) -> Receive:
    pending = list(first)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
