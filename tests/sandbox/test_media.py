"""Deepfake-detector suites: synthetic media with labels, seeded media mutators, the naive
reference entrant through the isolation boundary, per-mutator robustness and per-language
figures for voices."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bayanihan.sandbox import RunOptions, run
from bayanihan.sandbox.entrants import entrant_tool
from bayanihan.sandbox.harness import mutator_names
from bayanihan.sandbox.media_suite import synthetic_suite
from bayanihan.sandbox.mediamutators import MEDIA_MUTATORS, mutate_media, read_wav
from bayanihan.sandbox.render import render_html
from tests.conftest import need


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory):
    need("ffmpeg", shutil.which("ffmpeg") is not None)
    return synthetic_suite(tmp_path_factory.mktemp("media"), pictures=4, voices=6, clips=2)


def _file(suite, prefix: str) -> Path:
    return Path(next(c.path for c in suite.cases if c.id.startswith(prefix)))


def test_media_mutators_are_seeded_and_only_touch_what_they_mean(suite) -> None:
    picture, voice = _file(suite, "img-"), _file(suite, "voice-")
    for path, applies in ((picture, {"reencode_low", "resize", "crop", "noise"}),
                          (voice, {"reencode_low", "speed", "pitch", "noise", "phone_channel"})):
        data = path.read_bytes()
        for name in MEDIA_MUTATORS:
            once = mutate_media(name, data, path.suffix, 7, "case")
            assert once == mutate_media(name, data, path.suffix, 7, "case")  # seeded
            assert (once != data) == (name in applies), (path.suffix, name)
    samples, _ = read_wav(voice.read_bytes())
    pitched, _ = read_wav(mutate_media("pitch", voice.read_bytes(), ".wav", 1, "x"))
    assert len(pitched) == len(samples)  # pitch kept the duration; speed would not
    assert mutator_names(suite, None) == list(MEDIA_MUTATORS)


def test_reference_detector_card_shows_robustness_and_languages(suite) -> None:
    tool = entrant_tool("media-spectral", suite, Path("."))
    result = run(tool, suite, options=RunOptions(
        split="all", mutators=["resize", "noise", "phone_channel"]))
    card = result.card
    assert card["outcomes_total"]["ok"] == len(suite.cases) * 4, card.get("first_crash")
    overall = card["metrics"]["overall"]
    assert overall["recall"]["value"] == 1.0 and overall["fpr"]["value"] == 0.0
    robust = card["robustness"]
    assert robust["resize"]["drop"] > 0  # resizing blurs the upsampling grid
    assert robust["phone_channel"]["fpr"] > robust["phone_channel"]["clean_fpr"]  # real voices
    voices = {c.language for c in suite.cases if c.id.startswith("voice-")}
    assert voices <= set(card["metrics"]["by_language"])
    assert card["isolation"]["bubblewrap"] or not card["isolation"]["isolated"]
    assert "phone_channel" in render_html(card)
