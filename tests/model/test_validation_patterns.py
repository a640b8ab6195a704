"""The fast pattern path agrees with the ANTLR parser stix2-validator uses."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bayanihan.model.validation_patterns import _parsed_problems, pattern_problems, simple_pattern

SHA256 = "a9e5cb5a1b4ab0b5e4a8a1a6e8b21b1a0f6c0c7d6c5b4a3928170615f4e3d2c1"

TYPES = ["url", "file", "domain-name", "ipv4-addr", "email-addr", "x-lure", "URL", "in",
         "network-traffic", "user-account", "true", "file_x", "-file"]  # fmt: skip
PROPS = ["value", "name", "hashes", "size", "src_ref", "valu", "true", "Value", "x_custom",
         "extensions", "body_multipart"]  # fmt: skip
STEPS = ["", ".'SHA-256'", ".MD5", ".'MD5'", ".sha256", ".'SSDEEP'", ".value", ".true",
         ".[0]", "[*]", ".'a b'", ".'SHA-1'", ".x-y", ".'SHA3-256'"]  # fmt: skip
VALUES = ["http://x.example/a", SHA256, SHA256.upper(), "d41d8cd98f00b204e9800998ecf8427e",
          "abc", "", "it\\'s", "a\\\\b", "ข้อความ", "tab\there", "new\nline", "q'uote",
          "3:abc+/def:ghi", "\U0001f600"]  # fmt: skip


def mostly(common: list[str], rare: list[str]) -> st.SearchStrategy[str]:
    """Usually a choice from ``common`` (the fast subset), sometimes one from ``rare``."""
    return st.one_of(st.sampled_from(common), st.sampled_from(common), st.sampled_from(common),
                     st.sampled_from(common), st.sampled_from(rare))  # fmt: skip


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    obj_type, prop, step = draw(st.sampled_from([
        ("url", "value", ""), ("domain-name", "value", ""), ("file", "hashes", ".'SHA-256'"),
        ("file", "hashes", ".MD5"), ("file", "hashes", ".'SSDEEP'"), ("file", "name", ""),
        ("email-addr", "value", ""), ("ipv4-addr", "value", ""), ("file", "hashes", ".'SHA-1'"),
        ("network-traffic", "src_ref", ".value"), ("file", "hashes", ".sha256"),
    ]))  # fmt: skip
    obj_type = draw(mostly([obj_type], TYPES))
    prop = draw(mostly([prop], PROPS))
    step = draw(mostly([step], STEPS))
    space = mostly([" ", ""], ["  ", "\t"])
    op = draw(mostly(["=", "!="], ["==", "<", "LIKE", "IN"]))
    safe = st.text(st.characters(blacklist_characters="'\\", blacklist_categories=["Cc", "Cs"]))
    value = draw(st.one_of(safe, safe, st.sampled_from(VALUES), st.text(max_size=6)))
    return f"{obj_type}:{prop}{step}{draw(space)}{op}{draw(space)}'{value}'"


@st.composite
def stix_patterns(draw: st.DrawFn) -> str:
    join = mostly([" AND ", " OR "], [" and ", "AND", "  OR  ", " FOLLOWEDBY ", "\tOR "])
    observations = []
    for _ in range(draw(st.integers(1, 2))):
        inner = draw(comparisons())
        for _ in range(draw(st.integers(0, 1))):
            inner += draw(join) + draw(comparisons())
        lead, trail = draw(mostly([""], [" ", "\n"])), draw(mostly([""], [" "]))
        observations.append(f"[{lead}{inner}{trail}]")
    text = observations[0]
    for obs in observations[1:]:
        text += draw(join) + obs
    return draw(mostly([text], [" " + text, text + " ", text[:-1], "(" + text + ")"]))


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(stix_patterns())
@example("[url:value = 'http://x.example/a']")
@example("[file:hashes.'SHA-256' = '" + SHA256 + "']")
@example("[file:hashes.'SHA-256' = 'abc']")
def test_simple_subset_gives_the_parsers_verdict_and_reasons(pattern: str) -> None:
    if simple_pattern(pattern) is not None:
        assert pattern_problems(pattern) == _parsed_problems(pattern, "2.1"), pattern


def test_common_patterns_take_the_fast_path() -> None:
    for pattern in [
        "[url:value = 'http://x.example/a']",
        "[file:hashes.'SHA-256' = '" + SHA256 + "']",
        "[domain-name:value = 'a.example' OR domain-name:value = 'b.example']",
        "[email-addr:value = 'a@x.example'] AND [url:value = 'http://x.example/']",
    ]:
        assert simple_pattern(pattern) is not None, pattern
        assert pattern_problems(pattern) == ()


def test_invalid_patterns_are_explained() -> None:
    assert "not a valid SHA-256 hash" in pattern_problems("[file:hashes.'SHA-256' = 'abc']")[0]
    assert pattern_problems("[url:value = 'a'")  # unbalanced bracket, real parser
    assert pattern_problems("")  # the parser itself fails: still a rejection
    assert "not a valid observable type name" in " ".join(pattern_problems("[x:y = 'a']"))
