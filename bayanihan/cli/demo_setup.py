"""``bayanihan demo``'s hub: a fresh SQLite hub in a folder, the region's CERTs, a few
downstream organisations, one analyst key each and the demo's web sign-ins.

Everything happens on loopback with generated material; nothing is fetched. The folder keeps
the database, the admin key, ``demo-keys.json`` (one analyst key per organisation, readable
only by you), ``demo-users.txt`` (the web sign-ins) and ``demo-story.json`` (the ids of what
was reported), so the hub can be explored — and restarted with
``bayanihan serve --database FOLDER/hub.db`` — after the demo ends.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bayanihan.config import Settings
from bayanihan.errors import InvalidInput
from bayanihan.hub import Hub
from bayanihan.model.members import MEMBER_STATES, OrgKind
from bayanihan.sandbox.media_suite import write_suite
from bayanihan.store import audit, keys, users
from bayanihan.store import organisations as orgs

#: downstream organisations: (code, name, the member it sits under)
DOWNSTREAM = (("TH-1212", "Thailand 1212 scam-report line", "TH"),
              ("SG-BANK", "A Singapore bank's SOC", "SG"),
              ("MY-TELCO", "A Malaysian telco's abuse desk", "MY"))


@dataclass
class Prepared:
    database_url: str
    keys: dict[str, str] = field(default_factory=dict)
    users: list[tuple[str, str, str, str]] = field(default_factory=list)  # name, org, role, pw


def check_folder(folder: Path) -> None:
    """The demo starts from nothing: refuse a folder that already holds a hub."""
    if (folder / "hub.db").exists():
        raise InvalidInput(f"{folder} already holds a demo hub; remove it or choose another "
                           "--folder", ["--folder"])


def _owner_only(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def prepare(folder: Path) -> Prepared:
    """Create the hub, its organisations, one analyst key each and the demo users."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    url = f"sqlite:///{(folder / 'hub.db').resolve()}"
    hub = Hub(Settings(database_url=url, data_dir=str(folder.resolve())))
    hub.open()
    console = audit.Actor.console()
    done = Prepared(url)
    try:
        def setup(conn: Any) -> None:
            orgs.seed_asean(conn, console)
            for code, name, parent in DOWNSTREAM:
                orgs.add(conn, console, code, name, OrgKind.DOWNSTREAM, parent)
            for code in (*MEMBER_STATES, *(d[0] for d in DOWNSTREAM)):
                done.keys[code], _ = keys.create(conn, console, code, keys.Role.ANALYST,
                                                 None, "demo")
            done.keys["HUB"], _ = keys.create(conn, console, orgs.HUB_CODE, keys.Role.ADMIN,
                                              None, "demo")
            for name, org, role in (("th-analyst", "TH", keys.Role.ANALYST),
                                    ("sg-analyst", "SG", keys.Role.ANALYST),
                                    ("policy-viewer", "SG", keys.Role.READER)):
                password = secrets.token_urlsafe(12)
                users.add(conn, console, name, org, role, password)
                done.users.append((name, org, role.value, password))
        hub.db.write_sync(setup)
    finally:
        hub.close()
    _owner_only(folder / "demo-keys.json",
                orjson.dumps(done.keys, option=orjson.OPT_INDENT_2).decode() + "\n")
    _owner_only(folder / "demo-users.txt", "".join(
        f"{n}\t{o}\t{r}\t{p}\n" for n, o, r, p in done.users))
    return done


SUITE_FILE = Path(__file__).resolve().parents[1] / "sandbox" / "suites" / "tiny-text.jsonl"


def _sandbox(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bayanihan.cli", "sandbox", *args],
                          capture_output=True, text=True, env=env, timeout=900, check=False)


def _last(text: str) -> str:
    return (text.strip().splitlines() or ["?"])[-1]


def sandbox_runs(folder: Path, database_url: str) -> list[str]:
    """The regulator's step: the hub's reference entrants through the sandbox command (so
    they run confined, as a vendor's tool would), each leaving a report card."""
    env = {**os.environ, "BAYANIHAN_DATABASE_URL": database_url, "COLUMNS": "250",
           "BAYANIHAN_DATA_DIR": str(folder.resolve())}
    media = write_suite(folder / "deepfake-suite", pictures=8, voices=8, clips=0)
    runs = [("lure matcher", "demo-sms", SUITE_FILE, "text", "scam", "entrant:lure-matcher"),
            ("deepfake detector", "demo-deepfake", media, "media", "fake",
             "entrant:media-spectral")]
    lines = []
    for what, suite, path, kind, positive, tool in runs:
        added = _sandbox(env, "suite", "add", suite, str(path), "--kind", kind,
                         "--positive", positive)
        if added.returncode != 0:
            lines.append(f"sandbox: could not add the {what}'s suite: {_last(added.stderr)}")
            continue
        done = _sandbox(env, "run", "--tool", tool, "--suite", suite, "--split", "all",
                        "--train-split", "all")
        if done.returncode != 0:
            lines.append(f"sandbox: the {what}'s run was refused: {_last(done.stderr)}")
            continue
        grade = next((line.strip() for line in done.stderr.splitlines()
                      if f"on {suite}" in line), "card stored")
        lines.append(f"the regulator runs the hub's reference {what} in the sandbox: {grade} "
                     f"(run {done.stdout.strip()})")
    return lines

