"""Uploaded samples and media: hashed, never executed, never unpacked.

A sample (suspected malware) or a media file (deepfake audio, video or image) gets MD5,
SHA-1, SHA-256, TLSH (``py-tlsh``; absent for inputs too short or too uniform, where TLSH
answers ``TNULL``) and ssdeep (``ppdeep``). Only the hashes are kept unless the operator
enables ``store_samples`` (samples) or ``store_media`` (media); then the bytes are kept as
a STIX ``artifact`` under the report's TLP. Perceptual fingerprints of media are the
linking feature's job (``correlate/``); here media is accepted and hashed.

Archives (zip, gzip, 7z, rar, tar) are recognised by their magic bytes and stored as
opaque bytes: nothing here opens them.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson
import ppdeep
import stix2
import tlsh

from bayanihan.errors import InvalidInput, TooLarge

__all__ = ["ARCHIVE_MAGIC", "Upload", "file_objects", "hash_upload", "media_kind"]

#: Leading bytes of archive formats (recorded as such, never unpacked).
ARCHIVE_MAGIC: dict[bytes, str] = {
    b"PK\x03\x04": "application/zip",
    b"\x1f\x8b": "application/gzip",
    b"7z\xbc\xaf\x27\x1c": "application/x-7z-compressed",
    b"Rar!\x1a\x07": "application/vnd.rar",
}
_MEDIA_PREFIXES = {"image/": "image", "audio/": "audio", "video/": "video"}
_MAX_NAME = 255


@dataclass(frozen=True)
class Upload:
    """A hashed upload. ``data`` lives only for this request (linking fingerprints it);
    it is stored, as a STIX ``artifact``, only when ``keep`` (the operator's setting)."""

    field: str  # the form field it came in: "sample" or "media"
    name: str | None
    mime_type: str
    size: int
    hashes: dict[str, str]  # STIX hash names -> digest
    kind: str  # "sample", or "image" / "audio" / "video"
    archive: bool = False
    data: bytes | None = field(default=None, repr=False)
    keep: bool = False


def media_kind(mime_type: str) -> str | None:
    """"image", "audio" or "video" for a media type; None otherwise."""
    for prefix, kind in _MEDIA_PREFIXES.items():
        if mime_type.lower().startswith(prefix):
            return kind
    return None


def _clean_name(name: str | None, where: str) -> str | None:
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if any(ord(c) < 32 or ord(c) == 127 for c in base) or len(base) > _MAX_NAME:
        raise InvalidInput(f"{where}: file name has control characters or is too long", [where])
    return base or None


def hash_upload(data: bytes, *, where: str, name: str | None, mime_type: str | None,
                max_bytes: int, keep: bool) -> Upload:
    """Hash one uploaded file; raise TooLarge over ``max_bytes``, InvalidInput when empty."""
    if len(data) > max_bytes:
        raise TooLarge(f"{where}: {len(data)} bytes; uploads are limited to {max_bytes}", [where])
    if not data:
        raise InvalidInput(f"{where}: the file is empty", [where])
    archive_type = next((t for magic, t in ARCHIVE_MAGIC.items() if data.startswith(magic)), None)
    declared = (mime_type or "").split(";", 1)[0].strip().lower()
    kind = media_kind(declared) if where == "media" else None
    if where == "media" and kind is None:
        raise InvalidInput(f"media: expected an image/, audio/ or video/ file, got "
                           f"{declared or 'no content type'}", [where])
    hashes = {
        "MD5": hashlib.md5(data).hexdigest(),
        "SHA-1": hashlib.sha1(data).hexdigest(),
        "SHA-256": hashlib.sha256(data).hexdigest(),
    }
    digest = tlsh.hash(data)
    if digest and digest != "TNULL":
        # STIX's hashes schema and the stix2 library take TLSH without the "T1" version
        # prefix that py-tlsh prints (as in ingest/observables/stix.py).
        hashes["TLSH"] = digest[2:] if digest.startswith("T1") else digest
    hashes["SSDEEP"] = ppdeep.hash(data)
    return Upload(
        field=where, name=_clean_name(name, where),
        mime_type=archive_type or declared or "application/octet-stream",
        size=len(data), hashes=hashes, kind=kind or "sample", archive=archive_type is not None,
        data=data, keep=keep,
    )


def file_objects(upload: Upload, marking_refs: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``file`` SCO (deterministic id) and, when the bytes are kept, an ``artifact``."""
    extra: list[dict[str, Any]] = []
    props: dict[str, Any] = {"hashes": upload.hashes, "size": upload.size,
                             "mime_type": upload.mime_type,
                             "object_marking_refs": marking_refs}
    if upload.name:
        props["name"] = upload.name
    if upload.keep and upload.data is not None:
        artifact = stix2.v21.Artifact(
            mime_type=upload.mime_type, hashes={"SHA-256": upload.hashes["SHA-256"]},
            payload_bin=base64.b64encode(upload.data).decode("ascii"),
            object_marking_refs=marking_refs)
        art = _as_dict(artifact)
        extra.append(art)
        props["content_ref"] = art["id"]
    return _as_dict(stix2.v21.File(**props)), extra


def _as_dict(obj: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(obj.serialize())
    return loaded
