"""STIX 2.0 timestamps padded to milliseconds: the shortcut for stamps that already have three
or more fraction digits gives what the general rule gives, for any text."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bayanihan.model.stix20 import _millis, upgrade


def general(stamp: Any) -> Any:
    """The rule without the shortcut (as first written)."""
    if not isinstance(stamp, str) or len(stamp) < 20 or not stamp.endswith("Z"):
        return stamp
    head, _, fraction = stamp[:-1].partition(".")
    if len(head) != 19 or len(fraction) >= 3 or (fraction and not fraction.isdigit()):
        return stamp
    return f"{head}.{fraction.ljust(3, '0')}Z"


@settings(max_examples=500, deadline=None)
@given(st.datetimes(), st.text(alphabet="0123456789.xZ", max_size=6),
       st.text(alphabet="-T:.0123456789Zx ", max_size=30))
def test_shortcut_is_the_general_rule(moment: Any, fraction: str, other: str) -> None:
    stamp = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"
    for text in (f"{stamp}Z", f"{stamp}.{fraction}Z", f"{stamp}{fraction}Z", other, other + "Z"):
        assert _millis(text) == general(text), text


def test_upgrade_pads_and_keeps_the_rest() -> None:
    obj = {"type": "attack-pattern", "id": "attack-pattern--00000000-0000-4000-8000-000000000000",
           "created": "2020-01-01T00:00:05Z", "modified": "2020-01-01T00:00:05.1234Z", "name": "x"}
    up = upgrade(obj)
    assert list(up)[:3] == ["type", "id", "spec_version"]
    assert up["created"] == "2020-01-01T00:00:05.000Z"
    assert up["modified"] == "2020-01-01T00:00:05.1234Z"
