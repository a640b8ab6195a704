"""A reference deepfake detector for media suites: simple signal cues, no model.

Run as a tool (``entrant:media-spectral``, or ``cmd:python -m bayanihan.sandbox.media_baseline``):
one ``{"id", "path"}`` per line in, one verdict per line out.

* Images (and the first frame of a video, through ffmpeg): generators that upsample by
  repeating pixels leave a 2×2 block grid. The cue is the ratio of the pixel differences
  inside 2×2 blocks to those across block edges, at the block phase where it is smallest
  (so a crop by an odd number of pixels does not hide it): near 1 for a camera-like
  picture, well below 1 for an upsampled one.
* Audio: a vocoder working at 8 kHz leaves nothing above 4 kHz; the cue is the share of
  energy between 4 kHz and Nyquist.

It is deliberately naive, so that the mutators show what it misses: re-encoding, resizing
and noise blur the grid; a phone channel makes every voice band-limited.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from .mediamutators import AUDIO, VIDEO, read_wav

GRID_REAL = 0.85   # block ratio at or above which an image scores 0
GRID_FAKE = 0.45   # ... at or below which it scores 1
HIGH_BAND_REAL = 0.002  # share of energy above 4 kHz at or above which a voice scores 0


def grid_ratio(pixels: np.ndarray) -> float:
    """Smallest (over the four 2×2 phases) ratio of in-block to across-block differences."""
    best = 1.0
    for dy in (0, 1):
        for dx in (0, 1):
            p = pixels[dy:, dx:]
            h, w = (p.shape[0] // 2) * 2, (p.shape[1] // 2) * 2
            if h < 4 or w < 4:
                continue
            p = p[:h, :w]
            inside = np.abs(p[:, 0::2] - p[:, 1::2]).mean() + np.abs(p[0::2] - p[1::2]).mean()
            across = np.abs(p[:, 1:-1:2] - p[:, 2::2]).mean() + \
                np.abs(p[1:-1:2] - p[2::2]).mean()
            if across > 1e-6:
                best = min(best, float(inside / across))
    return best


def image_score(path: Path) -> float:
    pixels = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    ratio = grid_ratio(pixels)
    return float(np.clip((GRID_REAL - ratio) / (GRID_REAL - GRID_FAKE), 0, 1))


def audio_score(path: Path) -> float:
    samples, rate = read_wav(path.read_bytes())
    power = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    share = float(power[freqs >= 4000].sum() / max(power.sum(), 1e-12))
    return float(np.clip(1 - share / HIGH_BAND_REAL, 0, 1))


def video_score(path: Path) -> float:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg is needed for video")
    with tempfile.TemporaryDirectory() as tmp:
        frame = Path(tmp) / "frame.png"
        subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-threads", "1", "-i", str(path),
                        "-frames:v", "1", str(frame)], check=True, timeout=60,
                       stdin=subprocess.DEVNULL)
        return image_score(frame)


def score(path: Path) -> float:
    suffix = path.suffix.lower()
    if suffix in AUDIO:
        return audio_score(path)
    if suffix in VIDEO:
        return video_score(path)
    return image_score(path)


def main() -> None:
    for line in sys.stdin:
        case = json.loads(line)
        try:
            s = score(Path(case["path"]))
        except Exception as exc:  # a file it cannot read is a crash on that case
            print(json.dumps({"id": case["id"], "error": f"{type(exc).__name__}: {exc}"}),
                  flush=True)
            continue
        print(json.dumps({"id": case["id"], "label": "fake" if s >= 0.5 else "real",
                          "score": round(s, 4)}), flush=True)


if __name__ == "__main__":
    main()
