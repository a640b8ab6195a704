"""``bayanihan scan PATH…``: look for known malware and its near variants among local files.

Each file is hashed here (SHA-256, TLSH); only the digests go to the hub's check API
(``--url``, key in ``BAYANIHAN_KEY``), up to 1,000 a call — the files never leave the
machine. Offline, ``--against LIST`` compares with exported ``sha256`` / ``tlsh`` lists
(``bayanihan export sha256``, ``bayanihan export tlsh``) instead. A progress bar shows on
standard error for large trees.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import tlsh
import typer
from rich.progress import BarColumn, Progress, TextColumn, TransferSpeedColumn

from bayanihan.cli.common import err, out, run
from bayanihan.errors import InvalidInput

__all__ = ["Scanned", "digest_file", "scan", "walk"]

_BATCH = 500  # files a check call (two items each: SHA-256 and TLSH; the API takes 1,000)
_BAR_FILES = 200  # show a progress bar from this many files on
_CHUNK = 1 << 20


@dataclass
class Scanned:
    path: str
    sha256: str
    tlsh: str | None
    matches: list[dict[str, Any]] = field(default_factory=list)


def walk(paths: Sequence[Path]) -> Iterator[Path]:
    """Regular files under ``paths`` (symbolic links not followed), in a stable order."""
    for root in paths:
        if root.is_file() and not root.is_symlink():
            yield root
        elif root.is_dir():
            for folder, dirs, files in os.walk(root):
                dirs.sort()
                for name in sorted(files):
                    f = Path(folder) / name
                    if f.is_file() and not f.is_symlink():
                        yield f
        elif not root.exists():
            raise InvalidInput(f"{root}: no such file or folder", ["PATH"])


def digest_file(path: Path) -> tuple[str, str | None]:
    """SHA-256 and TLSH (None for files too short or too uniform for TLSH)."""
    sha, t = hashlib.sha256(), tlsh.Tlsh()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            sha.update(chunk)
            t.update(chunk)
    try:
        t.final()
        digest = t.hexdigest()
    except ValueError:
        digest = ""
    return sha.hexdigest(), (digest if digest and digest != "TNULL" else None)


def _ask_hub(client: httpx.Client, batch: list[Scanned]) -> None:
    items: list[dict[str, str]] = []
    owners: list[Scanned] = []
    for s in batch:
        items.append({"type": "hash", "value": s.sha256})
        owners.append(s)
        if s.tlsh:
            items.append({"type": "tlsh", "value": s.tlsh})
            owners.append(s)
    r = client.post("/api/v1/check", json={"items": items})
    if r.status_code != 200:
        raise InvalidInput(f"the hub answered {r.status_code}: {r.text[:300]}", ["--url"])
    for owner, result in zip(owners, r.json()["results"], strict=True):
        for m in result["matches"]:
            owner.matches.append({"match": "exact", "kind": m["kind"], "tlp": m["tlp"],
                                  "campaigns": m["campaigns"], "confidence": m["confidence"]})
        for v in result["variants"]:
            owner.matches.append({"match": "variant", "distance": v["distance"],
                                  "report": v["report"], "tlp": v["tlp"],
                                  "campaigns": [v["campaign"]] if v.get("campaign") else []})


def _read_lists(files: Sequence[Path]) -> tuple[set[str], list[tuple[str, Any]]]:
    shas: set[str] = set()
    digests: list[tuple[str, Any]] = []
    for f in files:
        for line in f.read_text(encoding="utf-8").splitlines():
            value = line.split(",", 1)[0].strip()
            if not value or value.startswith(("#", ";")):
                continue
            if len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value):
                shas.add(value.lower())
            elif value.upper().startswith("T1") and len(value) == 72:
                digests.append((value.upper(), tlsh.Tlsh()))
                digests[-1][1].fromTlshStr(value.upper())
    return shas, digests


def _match_offline(batch: list[Scanned], shas: set[str], digests: list[tuple[str, Any]],
                   max_distance: int) -> None:
    for s in batch:
        if s.sha256 in shas:
            s.matches.append({"match": "exact", "kind": "sha256", "campaigns": []})
        if s.tlsh:
            mine = tlsh.Tlsh()
            mine.fromTlshStr(s.tlsh)
            near = sorted((mine.diff(t), d) for d, t in digests)
            s.matches += [{"match": "variant", "distance": dist, "of": d, "campaigns": []}
                          for dist, d in near if dist <= max_distance][:5]


def _line(s: Scanned) -> str:
    parts = []
    for m in s.matches:
        camps = f" campaign {', '.join(m['campaigns'])}" if m.get("campaigns") else ""
        tlp = f" TLP:{m['tlp'].upper()}" if m.get("tlp") else ""
        if m["match"] == "exact":
            parts.append(f"known {m['kind']}{camps}{tlp}")
        else:
            of = m.get("report") or m.get("of")
            parts.append(f"near variant (TLSH distance {m['distance']}) of {of}{camps}{tlp}")
    return f"{s.path}: " + "; ".join(parts)


def scan(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH…", help="Files and folders.")],
    url: Annotated[str | None, typer.Option(help="The hub to ask (check API).")] = None,
    key: Annotated[str | None, typer.Option(
        "--key", envvar="BAYANIHAN_KEY", show_envvar=True, show_default=False,
        help="API key for --url (better: the BAYANIHAN_KEY variable; never printed).")] = None,
    against: Annotated[list[Path] | None, typer.Option(help=(
        "Offline: exported sha256/tlsh lists to compare with instead of a hub."))] = None,
    max_distance: Annotated[int, typer.Option(min=0, max=100, help=(
        "Offline: the largest TLSH distance reported as a variant."))] = 70,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per match.")] = False,
) -> None:
    """Hash local files (SHA-256, TLSH) and report known malware and near variants with their
    campaign; only digests leave the machine. Exit status 1 when something matched."""
    def go() -> int:
        if not url and not against:
            raise InvalidInput("give --url (the hub's check API) or --against LIST (offline)",
                               ["--url"])
        files = list(walk(paths))
        offline = _read_lists(against) if against else None
        client = None if offline else httpx.Client(
            base_url=url or "", timeout=120,
            headers={"Authorization": f"Bearer {key}"} if key else {})
        found = 0
        with Progress(TextColumn("{task.description}"), BarColumn(), TransferSpeedColumn(),
                      console=err, disable=len(files) < _BAR_FILES, transient=True) as bar:
            task = bar.add_task("scanning", total=sum(f.stat().st_size for f in files))
            for start in range(0, len(files), _BATCH):
                batch = []
                for f in files[start:start + _BATCH]:
                    batch.append(Scanned(str(f), *digest_file(f)))
                    bar.advance(task, f.stat().st_size)
                if offline is not None:
                    _match_offline(batch, *offline, max_distance)
                elif client is not None:
                    _ask_hub(client, batch)
                for s in batch:
                    if s.matches:
                        found += 1
                        if as_json:
                            sys.stdout.write(json.dumps({"path": s.path, "sha256": s.sha256,
                                                         "tlsh": s.tlsh,
                                                         "matches": s.matches}) + "\n")
                        else:
                            out.print(_line(s), markup=False, highlight=False, soft_wrap=True)
        if client is not None:
            client.close()
        err.print(f"{len(files)} file(s) scanned, {found} matched")
        return found
    if run(go):
        raise typer.Exit(1)
