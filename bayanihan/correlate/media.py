"""Perceptual fingerprints of media, for linking re-used deepfakes.

* images: pHash and dHash (64-bit, ``imagehash``), pHash of the mirrored image, and PDQ
  (256-bit, ``pdqhash``) for exchange with other hash-sharing systems;
* video: one pHash per second of key frames (``ffmpeg``);
* audio: Chromaprint (``fpcalc -raw``), compared at the best offset.

Only fingerprints leave this module; the media bytes are read from a temporary file that
is removed at once. Nothing is executed but ffmpeg/fpcalc on the file, with time limits.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from bayanihan.errors import InvalidInput

TOOL_SECONDS = 60
Image.MAX_IMAGE_PIXELS = 50_000_000  # refuse decompression bombs


@dataclass(frozen=True)
class ImagePrint:
    phash: int
    dhash: int
    phash_mirror: int
    pdq: str | None  # 64 hex digits
    pdq_quality: int | None


@dataclass(frozen=True)
class AudioPrint:
    duration: float
    raw: tuple[int, ...]  # Chromaprint sub-fingerprints, unsigned 32-bit

    def as_array(self) -> np.ndarray:
        return np.asarray(self.raw, dtype=np.uint32)


def _bits(h: object) -> int:
    return int(str(h), 16)


def print_image(image: Image.Image) -> ImagePrint:
    import imagehash

    rgb = ImageOps.exif_transpose(image).convert("RGB")
    pdq, quality = _pdq(rgb)
    return ImagePrint(
        phash=_bits(imagehash.phash(rgb)),
        dhash=_bits(imagehash.dhash(rgb)),
        phash_mirror=_bits(imagehash.phash(ImageOps.mirror(rgb))),
        pdq=pdq,
        pdq_quality=quality,
    )


def _pdq(rgb: Image.Image) -> tuple[str | None, int | None]:
    try:
        import pdqhash
    except ImportError:  # optional: PDQ is for exchange, pHash does the linking
        return None, None
    vector, quality = pdqhash.compute(np.asarray(rgb))
    bits = "".join("1" if b else "0" for b in vector)
    return f"{int(bits, 2):064x}", int(quality)


def image_print(data: bytes) -> ImagePrint:
    """Fingerprints of an image file's bytes; InvalidInput when it is not an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return print_image(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InvalidInput(f"not a readable image: {exc}", ["file"]) from None


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise InvalidInput(f"{name} is not installed on the hub; cannot fingerprint this media",
                           ["file"])
    return path


def _with_file(data: bytes, suffix: str = ".bin") -> tempfile._TemporaryFileWrapper[bytes]:
    handle = tempfile.NamedTemporaryFile(suffix=suffix)  # noqa: SIM115 - closed by caller
    handle.write(data)
    handle.flush()
    return handle


FRAME = 64  # video frames are hashed from 64x64 grey pictures


def video_print(data: bytes, max_seconds: int = 600) -> list[int]:
    """One pHash per second of video (the frame nearest each whole second)."""
    import imagehash

    ffmpeg = _tool("ffmpeg")
    with _with_file(data) as handle:
        proc = subprocess.run(
            [ffmpeg, "-v", "error", "-nostdin", "-i", handle.name, "-t", str(max_seconds),
             "-vf", f"fps=1,scale={FRAME}:{FRAME}", "-pix_fmt", "gray", "-f", "rawvideo", "-"],
            capture_output=True, timeout=TOOL_SECONDS, check=False)
    size = FRAME * FRAME
    if proc.returncode != 0 or len(proc.stdout) < size:
        raise InvalidInput("not a readable video", ["file"])
    frames = np.frombuffer(proc.stdout[: len(proc.stdout) // size * size], dtype=np.uint8)
    return [_bits(imagehash.phash(Image.fromarray(f.reshape(FRAME, FRAME))))
            for f in frames.reshape(-1, size)]


def audio_print(data: bytes, max_seconds: int = 300) -> AudioPrint:
    """Chromaprint of an audio (or video) file's sound track."""
    fpcalc = _tool("fpcalc")
    with _with_file(data) as handle:
        proc = subprocess.run([fpcalc, "-raw", "-json", "-length", str(max_seconds), handle.name],
                              capture_output=True, timeout=TOOL_SECONDS, check=False)
    try:
        out = json.loads(proc.stdout)
        raw = tuple(int(v) & 0xFFFFFFFF for v in out["fingerprint"])
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("not readable audio", ["file"]) from None
    if len(raw) < 8:
        raise InvalidInput("audio too short to fingerprint (a few seconds at least)", ["file"])
    return AudioPrint(float(out.get("duration", 0.0)), raw)


_POP = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount32(x: np.ndarray) -> np.ndarray:
    b = x.view(np.uint8)
    return _POP[b].reshape(-1, 4).sum(axis=1)


def audio_similarity(a: AudioPrint, b: AudioPrint, max_offset: int = 120,
                     min_overlap: int = 16) -> tuple[float, int]:
    """(1 - bit error rate, offset) at the best alignment of ``b`` against ``a``.

    Unrelated audio scores about 0.5; the same recording re-encoded, trimmed or with
    noise added scores well above 0.8.
    """
    x, y = a.as_array(), b.as_array()
    best, best_offset = 0.0, 0
    for offset in range(-max_offset, max_offset + 1):
        xs = x[max(0, offset):]
        ys = y[max(0, -offset):]
        n = min(len(xs), len(ys))
        if n < min_overlap:
            continue
        errors = int(_popcount32(np.bitwise_xor(xs[:n], ys[:n])).sum())
        score = 1.0 - errors / (32 * n)
        if score > best:
            best, best_offset = score, offset
    return best, best_offset


def kind_of(data: bytes, filename: str = "") -> str:
    """``image``, ``audio`` or ``video``, by content (never by the name alone)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        return "image"
    except Exception:
        pass
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        raise InvalidInput("cannot tell the media kind: ffprobe is not installed", ["file"])
    with _with_file(data, Path(filename).suffix or ".bin") as handle:
        proc = subprocess.run([ffprobe, "-v", "error", "-show_streams", "-of", "json", handle.name],
                              capture_output=True, timeout=TOOL_SECONDS, check=False)
    try:
        streams = json.loads(proc.stdout).get("streams", [])
    except ValueError:
        streams = []
    kinds = {s.get("codec_type") for s in streams}
    if "video" in kinds and not all(s.get("disposition", {}).get("attached_pic") for s in streams
                                    if s.get("codec_type") == "video"):
        return "video"
    if "audio" in kinds:
        return "audio"
    raise InvalidInput("not an image, audio or video file", ["file"])
