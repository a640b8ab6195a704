"""The hub accepts the region's language codes that stix2-validator's list lacks."""

from __future__ import annotations

import pytest

from bayanihan.model.validation import validate
from tests.stixgen import indicator


@pytest.mark.parametrize("lang", ["km", "lo", "my", "fil", "th", "vi", "id", "ms"])
def test_regional_language_codes_are_accepted(lang: str) -> None:
    assert validate(indicator(1, lang=lang)) == []


def test_a_made_up_language_code_is_still_refused() -> None:
    assert [p.path for p in validate(indicator(1, lang="xx-nope"))] == ["lang"]
