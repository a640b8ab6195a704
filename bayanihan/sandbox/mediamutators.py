"""Seeded mutators for media suites: what people who pass deepfakes around do to them, on
purpose or not, that slips past detectors.

Images (PIL): ``reencode_low`` (JPEG quality 20–35), ``resize`` (to 50–80 %), ``crop``
(5–15 % off the borders), ``noise`` (Gaussian, σ 4–10). Audio (16-bit WAV, numpy):
``reencode_low`` (MP3 at 16 kbit/s and back, through ffmpeg), ``speed`` (±8–15 % by
resampling: pitch moves with it), ``pitch`` (±2–4 semitones, duration kept), ``noise``
(20 dB SNR), ``phone_channel`` (8 kHz, 300–3400 Hz band, 8-bit µ-law and back: a clip
re-recorded through a phone call). Video (ffmpeg): ``reencode_low`` (H.264 CRF 40),
``resize`` (half size), ``crop``, ``noise``, ``speed`` (video and audio). A mutator that has
no meaning for a file's type leaves it unchanged (the card's ``changed`` counts say so).
Each variant is drawn from ``random.Random(seed, mutator, case id)``.
"""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import SandboxError

IMAGE = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
AUDIO = (".wav",)
VIDEO = (".mp4", ".webm", ".mkv", ".avi", ".mov")
MEDIA_MUTATORS = ("reencode_low", "resize", "crop", "noise", "speed", "pitch", "phone_channel")


def mutate_media(name: str, data: bytes, suffix: str, seed: int, case_id: str) -> bytes:
    """The ``name`` variant of one media file (unchanged when it does not apply)."""
    rng = random.Random(f"{seed}/{name}/{case_id}")
    suffix = suffix.lower()
    table: dict[str, Callable[[bytes, random.Random], bytes]] = (
        _IMAGE if suffix in IMAGE else _AUDIO if suffix in AUDIO else
        _video_table(suffix) if suffix in VIDEO else {})
    change = table.get(name)
    return data if change is None else change(data, rng)


# -- images ------------------------------------------------------------------------------
def _image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def _save(img: Image.Image, quality: int = 92) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _img_reencode(data: bytes, rng: random.Random) -> bytes:
    return _save(_image(data), rng.randint(20, 35))


def _img_resize(data: bytes, rng: random.Random) -> bytes:
    img = _image(data)
    f = rng.uniform(0.5, 0.8)
    return _save(img.resize((max(8, int(img.width * f)), max(8, int(img.height * f)))))


def _img_crop(data: bytes, rng: random.Random) -> bytes:
    img = _image(data)
    dx, dy = (int(img.width * rng.uniform(0.05, 0.15)), int(img.height * rng.uniform(0.05, 0.15)))
    return _save(img.crop((dx, dy, img.width - dx, img.height - dy)))


def _img_noise(data: bytes, rng: random.Random) -> bytes:
    pixels = np.asarray(_image(data), dtype=np.float32)
    noisy = pixels + np.random.default_rng(rng.getrandbits(32)).normal(
        0, rng.uniform(4, 10), pixels.shape)
    return _save(Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)))


_IMAGE = {"reencode_low": _img_reencode, "resize": _img_resize, "crop": _img_crop,
          "noise": _img_noise}


# -- audio -------------------------------------------------------------------------------
def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float samples in [-1, 1] and the rate of a 16-bit WAV file."""
    with wave.open(io.BytesIO(data)) as w:
        if w.getsampwidth() != 2:
            raise SandboxError("suite", "media mutators read 16-bit WAV audio only")
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32)
        rate, channels = w.getframerate(), w.getnchannels()
    return pcm.reshape(-1, channels).mean(axis=1) / 32768.0, rate


def write_wav(samples: np.ndarray, rate: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return out.getvalue()


def _resample(x: np.ndarray, factor: float) -> np.ndarray:
    """``x`` played ``factor`` times faster (linear interpolation)."""
    n = max(2, int(len(x) / factor))
    return np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x).astype(np.float32)


def _band(x: np.ndarray, rate: int, low: float, high: float) -> np.ndarray:
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    spectrum[(freqs < low) | (freqs > high)] = 0
    return np.fft.irfft(spectrum, len(x)).astype(np.float32)


def _audio(change: Callable[[np.ndarray, int, random.Random], np.ndarray]
           ) -> Callable[[bytes, random.Random], bytes]:
    def run(data: bytes, rng: random.Random) -> bytes:
        samples, rate = read_wav(data)
        return write_wav(change(samples, rate, rng), rate)
    return run


def _speed(x: np.ndarray, _rate: int, rng: random.Random) -> np.ndarray:
    return _resample(x, rng.choice((-1, 1)) * rng.uniform(0.08, 0.15) + 1)


def _pitch(x: np.ndarray, _rate: int, rng: random.Random) -> np.ndarray:
    factor = 2 ** (rng.choice((-1, 1)) * rng.uniform(2, 4) / 12)
    shifted = _resample(x, factor)  # higher/lower and shorter/longer ...
    # ... then stretched back to the original length in 50 ms grains (overlap-add)
    grain, hop = 551, 275
    out = np.zeros(len(x) + grain, dtype=np.float32)
    window = np.hanning(grain).astype(np.float32)
    for start in range(0, len(x), hop):
        src = min(int(start * factor), max(0, len(shifted) - grain))
        piece = shifted[src:src + grain]
        out[start:start + len(piece)] += piece * window[:len(piece)]
    return out[:len(x)]


def _noise(x: np.ndarray, _rate: int, rng: random.Random) -> np.ndarray:
    power = float(np.mean(x ** 2)) or 1e-6
    gen = np.random.default_rng(rng.getrandbits(32))
    return (x + gen.normal(0, np.sqrt(power / 100), len(x))).astype(np.float32)  # 20 dB


def _phone(x: np.ndarray, rate: int, _rng: random.Random) -> np.ndarray:
    narrow = _band(_resample(x, rate / 8000), 8000, 300, 3400)
    mu = 255.0
    coded = np.sign(narrow) * np.log1p(mu * np.abs(np.clip(narrow, -1, 1))) / np.log1p(mu)
    coded = np.round(coded * 127) / 127
    decoded = np.sign(coded) * ((1 + mu) ** np.abs(coded) - 1) / mu
    return _resample(decoded.astype(np.float32), 8000 / rate)[:len(x)]


def _ffmpeg(data: bytes, suffix: str, out_suffix: str, *args: str) -> bytes:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SandboxError("--mutators", "this media mutator needs ffmpeg, which is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / f"in{suffix}", Path(tmp) / f"out{out_suffix}"
        src.write_bytes(data)
        subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-y", "-threads", "1", "-i", str(src),
                        *args, "-map_metadata", "-1", "-fflags", "+bitexact", str(dst)],
                       check=True, timeout=300, stdin=subprocess.DEVNULL)
        return dst.read_bytes()


def _audio_reencode(data: bytes, _rng: random.Random) -> bytes:
    rate = read_wav(data)[1]
    low = _ffmpeg(data, ".wav", ".mp3", "-b:a", "16k")
    return _ffmpeg(low, ".mp3", ".wav", "-ar", str(rate), "-ac", "1", "-sample_fmt", "s16")


_AUDIO = {"reencode_low": _audio_reencode, "speed": _audio(_speed), "pitch": _audio(_pitch),
          "noise": _audio(_noise), "phone_channel": _audio(_phone)}


# -- video -------------------------------------------------------------------------------
def _video_table(suffix: str) -> dict[str, Callable[[bytes, random.Random], bytes]]:
    def filt(make: Callable[[random.Random], list[str]]) -> Callable[[bytes, random.Random], bytes]:
        return lambda data, rng: _ffmpeg(data, suffix, suffix, *make(rng), "-c:v", "libx264",
                                         "-crf", "23", "-pix_fmt", "yuv420p")

    def speed(rng: random.Random) -> list[str]:
        f = 1 + rng.choice((-1, 1)) * rng.uniform(0.08, 0.15)
        return ["-filter:v", f"setpts={1 / f:.4f}*PTS", "-an"]

    return {
        "reencode_low": lambda data, rng: _ffmpeg(data, suffix, suffix, "-c:v", "libx264",
                                                  "-crf", str(rng.randint(38, 42)),
                                                  "-pix_fmt", "yuv420p"),
        "resize": filt(lambda rng: ["-vf", "scale=trunc(iw/4)*2:trunc(ih/4)*2"]),
        "crop": filt(lambda rng: ["-vf", f"crop=iw*{rng.uniform(0.8, 0.9):.3f}:"
                                         f"ih*{rng.uniform(0.8, 0.9):.3f}"]),
        "noise": filt(lambda rng: ["-vf", f"noise=alls={rng.randint(10, 25)}:allf=t"]),
        "speed": filt(speed),
    }
