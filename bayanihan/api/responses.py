"""Fast JSON responses: orjson, and stored object bodies spliced in without re-parsing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from fastapi.responses import Response

JSON = "application/json"


class _Raw:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _splice(value: Any, raw_keys: Iterable[str]) -> Any:
    keys = set(raw_keys)
    if not keys:
        return value
    placeholders: list[str] = []

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            out = {}
            for k, item in v.items():
                if k in keys and isinstance(item, str):
                    placeholders.append(item)
                    out[k] = f"\x00RAW{len(placeholders) - 1}\x00"
                else:
                    out[k] = walk(item)
            return out
        if isinstance(v, list):
            return [walk(i) for i in v]
        return v

    return walk(value), placeholders


def render(value: Any, raw_keys: Iterable[str] = ()) -> bytes:
    """JSON bytes; values under ``raw_keys`` are JSON text already and go in as is."""
    keys = tuple(raw_keys)
    if not keys:
        return orjson.dumps(value)
    shaped, raws = _splice(value, keys)
    out = orjson.dumps(shaped)
    for i, text in enumerate(raws):
        out = out.replace(f'"\\u0000RAW{i}\\u0000"'.encode(), text.encode(), 1)
    return out


def json_response(value: Any, status: int = 200, *, raw_keys: Iterable[str] = (),
                  media_type: str = JSON, headers: dict[str, str] | None = None) -> Response:
    return Response(render(value, raw_keys), status_code=status, media_type=media_type,
                    headers=headers)


def join_raw(items: Iterable[str]) -> bytes:
    """A JSON array of already-serialised JSON texts."""
    return b"[" + ",".join(items).encode() + b"]"
