"""parse_bundle: any body gives the bundle's objects or a 4xx naming the field, nothing else."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from bayanihan.errors import InvalidInput, TooLarge
from bayanihan.ingest.bundles import parse_bundle

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_any_bytes_give_objects_or_a_named_error(body: bytes) -> None:
    try:
        objects = parse_bundle(body, 10)
    except (InvalidInput, TooLarge) as exc:
        assert exc.fields and exc.fields[0] in {"body", "type", "objects"}
    else:
        assert isinstance(objects, list)


@given(st.lists(json_values, max_size=12))
def test_a_bundle_gives_back_its_objects(objects: list[object]) -> None:
    raw = orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": objects})
    if len(objects) > 10:
        try:
            parse_bundle(raw, 10)
        except TooLarge as exc:
            assert exc.fields == ["objects"]
        else:
            raise AssertionError("more objects than the limit were accepted")
    else:
        assert parse_bundle(raw, 10) == objects


@given(st.text(min_size=1), st.integers(min_value=0, max_value=5))
def test_invalid_utf8_is_named_with_its_byte(text: str, cut: int) -> None:
    good = orjson.dumps({"type": "bundle", "objects": [text]})
    at = min(cut, len(good))
    body = good[:at] + b"\xff" + good[at:]
    try:
        parse_bundle(body, 10)
    except InvalidInput as exc:
        assert exc.fields == ["body"]
        assert f"byte {at}" in exc.detail
    else:
        raise AssertionError("invalid UTF-8 was accepted")
