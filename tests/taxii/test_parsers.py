"""Property tests for the TAXII parsers: ``next`` tokens, Accept/Content-Type, filters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bayanihan.api.taxii.media import acceptable
from bayanihan.api.taxii.paging import binding, make_token, read_token
from bayanihan.errors import InvalidInput
from bayanihan.model.members import OrgKind
from bayanihan.share.policy import PUBLIC, Reader

SECRET = b"s" * 32
SG = Reader(org="SG", kind=OrgKind.MEMBER, key_id="k1")
params = st.lists(st.tuples(st.sampled_from(["added_after", "match[type]", "match[id]", "limit",
                                             "next"]), st.text(max_size=20)), max_size=5)


@given(st.integers(min_value=0, max_value=2**62), params)
def test_a_token_reads_back_for_the_same_query_and_caller(after: int,
                                                          query: list[tuple[str, str]]) -> None:
    bound = binding(SG, "/taxii2/api/collections/x/objects/", query)
    assert read_token(SECRET, make_token(SECRET, after, bound), bound) == after


@given(st.integers(min_value=0, max_value=2**62), params, st.text(min_size=1, max_size=10))
def test_a_token_fails_for_other_filters_or_callers(after: int, query: list[tuple[str, str]],
                                                    extra: str) -> None:
    path = "/taxii2/api/collections/x/objects/"
    token = make_token(SECRET, after, binding(SG, path, query))
    for other in (binding(SG, path, [*query, ("match[type]", extra)]),
                  binding(PUBLIC, path, query),
                  binding(Reader(org="SG", kind=OrgKind.MEMBER, key_id="k2"), path, query),
                  binding(SG, path + "x", query)):
        with pytest.raises(InvalidInput):
            read_token(SECRET, token, other)


@given(st.text(max_size=80))
def test_any_next_text_is_refused_cleanly(token: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_token(SECRET, token, b"anything")
    assert caught.value.fields == ["next"]


@given(st.text(max_size=120))
def test_accept_parsing_never_fails(header: str) -> None:
    assert acceptable(header) in (True, False)


@pytest.mark.parametrize(("header", "ok"), [
    ("application/taxii+json;version=2.1", True), ("application/taxii+json", True),
    ("application/taxii+json; version=\"2.1\"", True), ("*/*", True), ("", True),
    ("text/html, application/taxii+json;version=2.1;q=0.9", True),
    ("application/taxii+json;version=2.0", False), ("application/json", False),
    ("application/taxii+json;version=2.1;q=0", False),
])
def test_accept_examples(header: str, ok: bool) -> None:
    assert acceptable(header) is ok
