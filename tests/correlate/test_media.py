"""Re-used deepfake media is found again after re-encoding, resizing, mirroring, trimming."""

from __future__ import annotations

import shutil

import pytest

from bayanihan.correlate.media import audio_print, audio_similarity, image_print, kind_of, video_print
from bayanihan.correlate.media_index import (
    add_audio,
    add_image,
    add_video,
    similar_audio,
    similar_images,
    similar_videos,
)
from bayanihan.demo import synthetic_media as sm
from bayanihan.errors import InvalidInput
from bayanihan.hub import Hub
from tests.conftest import need


def ffmpeg_tools() -> None:
    need("ffmpeg and fpcalc (Debian ffmpeg, libchromaprint-tools)",
         bool(shutil.which("ffmpeg") and shutil.which("fpcalc")))


@pytest.mark.parametrize("how", ["same", "resize", "brighter", "crop", "mirror"])
def test_a_reposted_picture_is_found(hub: Hub, how: str) -> None:
    original = sm.portrait(1)
    hub.db.write_sync(add_image, "file--orig", sm.encode(original), image_print(sm.encode(original)))
    for seed in range(2, 12):  # unrelated pictures
        data = sm.encode(sm.portrait(seed))
        hub.db.write_sync(add_image, f"file--other-{seed}", data, image_print(data))
    repost = image_print(sm.encode(sm.reused(original, how), quality=60))
    matches = hub.db.read_sync(similar_images, repost)
    assert [m.media_ref for m in matches] == ["file--orig"]
    assert ("mirrored" in matches[0].evidence) == (how == "mirror")


def test_image_fingerprints_include_pdq_for_exchange() -> None:
    fp = image_print(sm.encode(sm.portrait(3)))
    assert fp.pdq is not None and len(fp.pdq) == 64
    assert 0 <= fp.phash < 1 << 64


def test_garbage_is_not_an_image() -> None:
    with pytest.raises(InvalidInput) as err:
        image_print(b"\x00\x01 not an image at all")
    assert err.value.fields == ["file"]


@pytest.mark.parametrize("how", ["noisy", "quieter", "trimmed"])
def test_a_reused_cloned_voice_is_found(hub: Hub, how: str) -> None:
    ffmpeg_tools()
    cloned = sm.voice(7)
    hub.db.write_sync(add_audio, "file--voice", sm.wav_bytes(cloned), audio_print(sm.wav_bytes(cloned)))
    for seed in (8, 9, 10):
        other = sm.wav_bytes(sm.voice(seed))
        hub.db.write_sync(add_audio, f"file--voice-{seed}", other, audio_print(other))
    heard = sm.transcode(sm.wav_bytes(sm.voice_reused(cloned, how)), ".wav", ".ogg", "-c:a", "libvorbis")
    assert kind_of(heard, "call.ogg") == "audio"
    matches = hub.db.read_sync(similar_audio, audio_print(heard))
    assert [m.media_ref for m in matches] == ["file--voice"]


def test_different_voices_score_near_chance() -> None:
    ffmpeg_tools()
    a, b = (audio_print(sm.wav_bytes(sm.voice(s))) for s in (20, 21))
    score, _ = audio_similarity(a, b)
    assert score < 0.7


def test_a_reencoded_video_is_found_by_its_seconds(hub: Hub) -> None:
    ffmpeg_tools()
    original = sm.clip("testsrc", 6)
    hub.db.write_sync(add_video, "file--video", original, video_print(original))
    other = sm.clip("mandelbrot", 6)
    hub.db.write_sync(add_video, "file--other", other, video_print(other))
    smaller = sm.transcode(original, ".mp4", ".mp4", "-vf", "scale=240:180", "-crf", "35")
    assert kind_of(smaller, "x.mp4") == "video"
    matches = hub.db.read_sync(similar_videos, video_print(smaller))
    assert [m.media_ref for m in matches] == ["file--video"]
