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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bayanihan.config import Settings
from bayanihan.errors import InvalidInput
from bayanihan.hub import Hub
from bayanihan.model.members import MEMBER_STATES, OrgKind
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


