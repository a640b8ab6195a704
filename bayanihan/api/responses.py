"""Fast JSON responses: orjson, with stored object bodies spliced in without re-parsing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from fastapi.responses import Response

JSON = "application/json"
#: the largest paging cursor or position a query parameter may carry (a signed 64-bit
#: column): anything larger is a 400 naming the parameter, never a database overflow
INT64 = 2**63 - 1


def _fragments(value: Any, keys: frozenset[str]) -> Any:
    """``value`` with the strings under ``keys`` wrapped as already-serialised JSON."""
    if isinstance(value, dict):
        return {k: orjson.Fragment(v) if k in keys and isinstance(v, str) else _fragments(v, keys)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_fragments(v, keys) for v in value]
    return value


def render(value: Any, raw_keys: Iterable[str] = ()) -> bytes:
    """JSON bytes; values under ``raw_keys`` are JSON text already and go in as is."""
    keys = frozenset(raw_keys)
    return orjson.dumps(_fragments(value, keys) if keys else value)


def json_response(value: Any, status: int = 200, *, raw_keys: Iterable[str] = (),
                  media_type: str = JSON, headers: dict[str, str] | None = None) -> Response:
    return Response(render(value, raw_keys), status_code=status, media_type=media_type,
                    headers=headers)


def join_raw(items: Iterable[str]) -> bytes:
    """A JSON array of already-serialised JSON texts."""
    return b"[" + ",".join(items).encode() + b"]"
