"""A labelled deepfake suite made from the hub's synthetic media generator
(:mod:`bayanihan.demo.synthetic_media`): no real person's face or voice.

``real`` items are the generator's pictures, voices and clips as made. ``fake`` items carry
the trace a cheap generator leaves: pictures and video frames rendered at half size and
upsampled by repeating pixels; voices synthesised at 8 kHz (nothing above 4 kHz) and
resampled. Voices carry a ``language`` tag (tl, en, ms, th, vi in turn) so cards show
per-language figures; the generator's voices are not speech, so the tag is a label only.
An operator adds real clips by appending lines with their own paths to the JSON Lines file.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from bayanihan.demo import synthetic_media as media

from .mediamutators import write_wav
from .suite import Suite, load_suite

LANGUAGES = ("tl", "en", "ms", "th", "vi")
RATE = 11025


def _fake_picture(img: Image.Image) -> Image.Image:
    half = img.resize((img.width // 2, img.height // 2), Image.Resampling.BILINEAR)
    return half.resize(img.size, Image.Resampling.NEAREST)


def _fake_voice(samples: np.ndarray) -> np.ndarray:
    n = int(len(samples) * 8000 / RATE)
    low = np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)), samples)
    spectrum = np.fft.rfft(low)
    spectrum[np.fft.rfftfreq(n, 1 / 8000) > 3900] = 0
    low = np.fft.irfft(spectrum, n)
    return np.interp(np.linspace(0, n - 1, len(samples)), np.arange(n), low).astype(np.float32)


def _jpeg(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92)
    return out.getvalue()


def write_suite(folder: Path, pictures: int = 24, voices: int = 24, clips: int = 4,
                seed: int = 0) -> Path:
    """Write the media files and ``suite.jsonl`` under ``folder``; half of each kind fake."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []

    def add(name: str, data: bytes, label: str, language: str | None = None) -> None:
        (folder / name).write_bytes(data)
        split = "train" if len(lines) % 5 == 4 else "test"
        lines.append({"id": Path(name).stem, "path": str(folder.resolve() / name),
                      "label": label, "split": split, "source": "bayanihan synthetic media",
                      **({"language": language} if language else {})})

    for i in range(pictures):
        img = media.portrait(seed * 1000 + i)
        fake = i % 2 == 1
        add(f"img-{i:03d}.jpg", _jpeg(_fake_picture(img) if fake else img),
            "fake" if fake else "real")
    for i in range(voices):
        samples = media.voice(seed * 1000 + i, seconds=3.0, rate=RATE)
        fake = i % 2 == 1
        add(f"voice-{i:03d}.wav", write_wav(_fake_voice(samples) if fake else samples, RATE),
            "fake" if fake else "real", LANGUAGES[(i // 2) % len(LANGUAGES)])
    for i in range(clips):
        fake = i % 2 == 1
        source = ("mandelbrot", "life", "testsrc2", "cellauto")[(i // 2) % 4]
        scale = ["-vf", "scale=160:120,scale=320:240:flags=neighbor"] if fake else []
        add(f"clip-{i:03d}.mp4", media.clip(source, 2, "320x240", *scale, "-threads", "1"),
            "fake" if fake else "real")
    suite = folder / "suite.jsonl"
    suite.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return suite


def synthetic_suite(folder: Path, **sizes: int) -> Suite:
    """:func:`write_suite`, loaded as a ``media`` suite whose positive label is ``fake``."""
    return load_suite(write_suite(folder, **sizes), name="deepfake-synthetic", kind="media",
                      positive=["fake"])
