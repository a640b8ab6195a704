"""Synthetic media for the demo and tests: harmless pictures, "voices" and clips made from
seeded noise, so that re-used fakes can be shown without any real person's likeness."""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps


def portrait(seed: int, size: int = 256) -> Image.Image:
    """A seeded abstract 'portrait': background gradient, shapes, a face-like ellipse."""
    rnd = random.Random(seed)
    img = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(img)
    top = tuple(rnd.randrange(256) for _ in range(3))
    bottom = tuple(rnd.randrange(256) for _ in range(3))
    for y in range(size):
        t = y / size
        shade = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (size, y)], fill=shade)
    for _ in range(12):
        x0, y0 = rnd.randrange(size), rnd.randrange(size)
        x1, y1 = x0 + rnd.randrange(20, size // 2), y0 + rnd.randrange(20, size // 2)
        colour = tuple(rnd.randrange(256) for _ in range(3))
        (draw.ellipse if rnd.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=colour)
    cx, cy = size // 2 + rnd.randrange(-20, 20), size // 2 + rnd.randrange(-20, 20)
    draw.ellipse([cx - 60, cy - 80, cx + 60, cy + 80], fill=(224, 188, 160))
    draw.ellipse([cx - 30, cy - 25, cx - 12, cy - 12], fill=(40, 40, 40))
    draw.ellipse([cx + 12, cy - 25, cx + 30, cy - 12], fill=(40, 40, 40))
    draw.arc([cx - 30, cy + 10, cx + 30, cy + 50], 20, 160, fill=(120, 40, 40), width=4)
    return img.filter(ImageFilter.GaussianBlur(1))


def encode(img: Image.Image, fmt: str = "JPEG", quality: int = 85) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, quality=quality) if fmt == "JPEG" else img.save(out, fmt)
    return out.getvalue()


def reused(img: Image.Image, how: str) -> Image.Image:
    """The same picture as an attacker re-posts it."""
    if how == "mirror":
        return ImageOps.mirror(img)
    if how == "resize":
        return img.resize((img.width * 3 // 4, img.height * 3 // 4))
    if how == "brighter":
        return img.point(lambda v: min(255, int(v * 1.1)))
    if how == "crop":
        w, h = img.size
        return img.crop((w // 40, h // 40, w - w // 40, h - h // 40))
    return img


def voice(seed: int, seconds: float = 10.0, rate: int = 11025) -> np.ndarray:
    """A seeded 'voice': a gliding pitch with harmonics and syllable-like bursts."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    pitch = 110 + 60 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 6))
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    signal = sum(rng.uniform(0.2, 1.0) / k * np.sin(k * phase) for k in range(1, 8))
    syllables = (np.sin(2 * np.pi * rng.uniform(2.5, 5.0) * t) > rng.uniform(-0.3, 0.3)).astype(float)
    noise = rng.normal(0, 0.05, len(t))
    out = signal * (0.3 + 0.7 * syllables) + noise
    return (out / np.abs(out).max() * 0.8).astype(np.float32)


def wav_bytes(samples: np.ndarray, rate: int = 11025) -> bytes:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


def voice_reused(samples: np.ndarray, how: str, seed: int = 0, rate: int = 11025) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if how == "noisy":
        return samples + rng.normal(0, 0.03, len(samples)).astype(np.float32)
    if how == "quieter":
        return samples * 0.5
    if how == "trimmed":
        return samples[int(1.5 * rate):]
    return samples


def transcode(data: bytes, suffix_in: str, suffix_out: str, *args: str) -> bytes:
    """Re-encode with ffmpeg (as a phone or a messaging app would)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / f"in{suffix_in}", Path(tmp) / f"out{suffix_out}"
        src.write_bytes(data)
        subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-y", "-i", str(src), *args, str(dst)],
                       check=True, timeout=120)
        return dst.read_bytes()


def clip(source: str, seconds: int = 6, size: str = "320x240", *args: str) -> bytes:
    """A short synthetic video from one of ffmpeg's built-in sources (testsrc, mandelbrot…)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / "clip.mp4"
        subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                        f"{source}=size={size}:rate=10", "-t", str(seconds), *args,
                        "-pix_fmt", "yuv420p", str(dst)], check=True, timeout=120)
        return dst.read_bytes()
