"""Hypothesis strategies: STIX objects, valid and broken in the ways senders break them."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from hypothesis import strategies as st

from tests.model.conftest import base_objects

OBJECT_TYPES = ["indicator", "identity", "relationship", "sighting", "malware", "report",
                "marking-definition", "campaign", "url", "file", "x-custom-thing", "Indicator",
                "in", "observed-data", "attack-pattern", "tool"]  # fmt: skip
REQUIRED = ["type", "spec_version", "id", "created", "modified", "pattern", "pattern_type",
            "valid_from", "name", "relationship_type", "source_ref", "target_ref",
            "sighting_of_ref", "is_family", "published", "object_refs", "extensions",
            "extension_types", "schema", "version"]  # fmt: skip
LANGS = ["en", "th", "vi", "id", "ms", "km", "lo", "my", "fil", "tl", "zh-Hans", "EN", "xx", ""]


@st.composite
def uuids(draw: st.DrawFn) -> str:
    """RFC 4122 UUIDs of every version and variant, and near-misses."""
    raw = uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))
    version = draw(st.sampled_from([1, 3, 4, 4, 4, 5, 0, 6, 7, 8]))
    text = str(uuid.UUID(int=(raw.int & ~(0xF << 76)) | (version << 76)))
    variant = draw(st.sampled_from("89ab89abAB0c7f"))
    text = text[:19] + variant + text[20:]
    return draw(st.sampled_from([text, text, text, text.upper(), text.replace("-", ""),
                                 text[:-1], text + "0", "{" + text + "}"]))  # fmt: skip


@st.composite
def identifiers(draw: st.DrawFn, prefix: str | None = None) -> str:
    kind = prefix or draw(st.sampled_from([*OBJECT_TYPES, "marking-definition", "identity"]))
    sep = draw(st.sampled_from(["--", "--", "--", "-", "---", "__"]))
    return f"{kind}{sep}{draw(uuids())}"


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """RFC 3339 timestamps with impossible dates, leap seconds, odd precision, bad zones."""
    year = draw(st.sampled_from([0, 1, 1970, 2000, 2024, 2026, 2100, 9999]))
    month = draw(st.integers(0, 13))
    day = draw(st.integers(0, 32))
    hour, minute = draw(st.integers(0, 24)), draw(st.integers(0, 60))
    second = draw(st.integers(0, 61))
    digits = draw(st.integers(0, 9))
    fraction = "." + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=digits,
                                           max_size=digits))) if digits else ""  # fmt: skip
    zone = draw(st.sampled_from(["Z", "Z", "Z", "Z", "z", "+00:00", ""]))
    sep = draw(st.sampled_from(["T", "T", "T", " ", "t"]))
    return f"{year:04d}-{month:02d}-{day:02d}{sep}{hour:02d}:{minute:02d}:{second:02d}{fraction}{zone}"


SHA256 = "a9e5cb5a1b4ab0b5e4a8a1a6e8b21b1a0f6c0c7d6c5b4a3928170615f4e3d2c1"
PATTERN_PIECES = [
    "[url:value = 'http://x.example/a']",
    "[domain-name:value = 'x.example']",
    "[file:hashes.'SHA-256' = '" + SHA256 + "']",
    "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    "[file:hashes.'SHA-256' = 'abc']",
    "[email-addr:value = 'a@x.example'] AND [url:value != 'q']",
    "[ipv4-addr:value = '10.0.0.1' OR ipv4-addr:value = '10.0.0.2']",
    "[network-traffic:dst_ref.value = '10.0.0.1']",
    "[x-bayanihan-lure:text = 'hi']",
    "[url:valu = 'http://x.example/a']",
    "[url:value = 'a'] FOLLOWEDBY [url:value = 'b'] WITHIN 60 SECONDS",
    "[url:value LIKE '%x%']",
    "[url:value = 'unterminated]",
    "url:value = 'no brackets'",
    "[url:value = 'a' and url:value = 'b']",
    "[file:size > 10]",
    "[file:name = 'x'] REPEATS 2 TIMES REPEATS 3 TIMES",
    "",
]


@st.composite
def patterns(draw: st.DrawFn) -> str:
    return draw(st.one_of(st.sampled_from(PATTERN_PIECES), st.text(max_size=40)))


JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 200), st.floats(-1.5, 101.5, allow_nan=False),
    st.text(max_size=8), st.just([]), st.lists(st.text(max_size=4), min_size=1, max_size=2),
    st.just({}), st.just({"a": 1}),
)  # fmt: skip


@st.composite
def mutation(draw: st.DrawFn, obj: dict[str, Any]) -> None:
    """Break (or keep valid) one aspect of ``obj`` in place."""
    kind = draw(st.sampled_from([
        "id", "type", "timestamp", "order", "drop", "pattern", "markings", "confidence",
        "labels", "lang", "extref", "custom", "extensions", "spec_version", "revoked",
        "created_by", "any", "granular",
    ]))  # fmt: skip
    if kind == "id":
        prefix = draw(st.sampled_from([obj.get("type"), None]))
        obj["id"] = draw(identifiers(prefix if isinstance(prefix, str) else None))
    elif kind == "type":
        obj["type"] = draw(st.sampled_from(OBJECT_TYPES))
    elif kind == "timestamp":
        prop = draw(
            st.sampled_from(
                [
                    "created",
                    "modified",
                    "valid_from",
                    "valid_until",
                    "first_seen",
                    "last_seen",
                    "published",
                    "start_time",
                ]
            )
        )
        obj[prop] = draw(timestamps())
    elif kind == "order":
        obj["modified"] = draw(
            st.sampled_from(
                [
                    "2025-01-01T00:00:00.000Z",
                    "2026-11-20T08:15:00.000001Z",
                    "2026-11-20T08:14:59.9999999Z",
                    "2026-11-20T08:15:00.0000000001Z",
                ]
            )
        )
    elif kind == "drop":
        obj.pop(draw(st.sampled_from(REQUIRED)), None)
    elif kind == "pattern":
        obj["pattern"] = draw(patterns())
        if draw(st.booleans()):
            obj["pattern_version"] = draw(st.sampled_from(["2.1", "2.0", "2.2"]))
    elif kind == "markings":
        obj["object_marking_refs"] = draw(st.lists(
            st.one_of(identifiers("marking-definition"), identifiers(), st.text(max_size=5),
                      st.just(obj.get("id"))), max_size=3))  # fmt: skip
    elif kind == "confidence":
        obj["confidence"] = draw(JSON_VALUES)
    elif kind == "labels":
        obj["labels"] = draw(JSON_VALUES)
    elif kind == "lang":
        obj["lang"] = draw(st.sampled_from(LANGS))
    elif kind == "extref":
        ref = draw(st.fixed_dictionaries({}, optional={
            "source_name": st.sampled_from(["cve", "capec", "th-cert", "", "CVE"]),
            "external_id": st.sampled_from(["CVE-2024-12345", "CVE-2024-1", "CAPEC-98", "x"]),
            "url": st.sampled_from(["https://example.org/a", "not a url", "http://[bad"]),
            "description": st.text(max_size=5),
            "hashes": st.sampled_from([{"SHA-256": SHA256}, {"md5": "x"}, {}]),
        }))  # fmt: skip
        obj["external_references"] = draw(st.sampled_from([[ref], [], [ref, {}]]))
    elif kind == "custom":
        name = draw(
            st.sampled_from(
                [
                    "x_bayanihan_score",
                    "ab",
                    "Bad",
                    "x-dash",
                    "id",
                    "x_a_bin",
                    "x_a_hex",
                    "valid_name_too",
                    "a" * 251,
                ]
            )
        )
        obj[name] = draw(JSON_VALUES)
    elif kind == "extensions":
        key = draw(st.sampled_from([
            "extension-definition--01df988b-b18e-558d-bc94-c5d9355dd9a7",
            "extension-definition--01df988b-b18e-058d-bc94-c5d9355dd9a7", "x-foo-ext", "bad",
        ]))  # fmt: skip
        body = draw(st.fixed_dictionaries({}, optional={
            "extension_type": st.sampled_from(["property-extension", "new-sdo", "other"]),
            "vector": JSON_VALUES, "Bad": st.just(1),
        }))  # fmt: skip
        obj["extensions"] = draw(st.sampled_from([{key: body}, {}, {key: body, "a": {}}]))
    elif kind == "spec_version":
        obj["spec_version"] = draw(st.sampled_from(["2.1", "2.0", "2.2", 2.1, None]))
    elif kind == "revoked":
        obj["revoked"] = draw(JSON_VALUES)
    elif kind == "created_by":
        obj["created_by_ref"] = draw(st.one_of(identifiers("identity"), identifiers()))
    elif kind == "granular":
        obj["granular_markings"] = [{"selectors": draw(st.sampled_from(
            [["name"], ["labels.[0]"], ["nope"], []])),
            "marking_ref": draw(identifiers("marking-definition"))}]  # fmt: skip
    else:
        prop = draw(st.sampled_from(sorted(obj)))
        obj[prop] = draw(JSON_VALUES)


@st.composite
def stix_objects(draw: st.DrawFn, max_mutations: int = 3) -> dict[str, Any]:
    """A valid base object with zero to ``max_mutations`` mutations applied."""
    obj = copy.deepcopy(draw(st.sampled_from(base_objects())))
    for _ in range(draw(st.integers(0, max_mutations))):
        draw(mutation(obj))
    return obj
