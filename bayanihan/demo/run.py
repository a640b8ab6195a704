"""``bayanihan demo``: a fresh SQLite hub in a folder, the region's CERTs and a few downstream
organisations, demo users, the server, and the scenario replayed against it over the API.

Everything happens on loopback with generated material; nothing is fetched. The folder keeps
the database, the admin key, ``demo-keys.json`` (one analyst key per organisation, readable
only by you), ``demo-users.txt`` (the web sign-ins) and ``demo-story.json`` (the ids of what
was reported), so the hub can be explored — and
restarted with ``bayanihan serve --database FOLDER/hub.db`` — after the demo ends.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from bayanihan.config import Settings
from bayanihan.demo.scenario import Context, DemoError, Step, steps
from bayanihan.errors import InvalidInput
from bayanihan.hub import Hub
from bayanihan.model.members import MEMBER_STATES, OrgKind
from bayanihan.store import audit, keys, users
from bayanihan.store import organisations as orgs

#: downstream organisations: (code, name, the member it sits under)
DOWNSTREAM = (("TH-1212", "Thailand 1212 scam-report line", "TH"),
              ("SG-BANK", "A Singapore bank's SOC", "SG"),
              ("MY-TELCO", "A Malaysian telco's abuse desk", "MY"))
SUITE_FILE = Path(__file__).resolve().parents[1] / "sandbox" / "suites" / "tiny-text.jsonl"


@dataclass
class DemoOptions:
    folder: Path
    host: str = "127.0.0.1"
    port: int = 8000
    pause: float = 8.0  # seconds between steps (0 with --fast)
    serve_after: bool = True  # keep serving once the story is told
    sandbox: bool = True


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


def prepare(options: DemoOptions) -> Prepared:
    """Create the hub, its organisations, one analyst key each and the demo users."""
    options.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    url = f"sqlite:///{(options.folder / 'hub.db').resolve()}"
    hub = Hub(Settings(database_url=url, data_dir=str(options.folder.resolve())))
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
    _owner_only(options.folder / "demo-keys.json",
                orjson.dumps(done.keys, option=orjson.OPT_INDENT_2).decode() + "\n")
    _owner_only(options.folder / "demo-users.txt", "".join(
        f"{n}\t{o}\t{r}\t{p}\n" for n, o, r, p in done.users))
    return done


def _wait_healthy(base: str, stop: threading.Event, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def sandbox_step(options: DemoOptions, database_url: str) -> str:
    """Run the reference lure matcher on the shipped suite through the sandbox CLI."""
    command = [sys.executable, "-m", "bayanihan.cli", "sandbox"]
    env = {**os.environ, "BAYANIHAN_DATABASE_URL": database_url,
           "BAYANIHAN_DATA_DIR": str(options.folder.resolve())}
    add = subprocess.run([*command, "suite", "add", "demo-sms", str(SUITE_FILE),
                          "--positive", "scam"], capture_output=True, text=True, env=env,
                         timeout=300, check=False)
    if add.returncode != 0:
        return "sandbox: could not add the demo suite: " + (add.stderr.strip().splitlines()
                                                            or ["?"])[-1]
    run = subprocess.run([*command, "run", "--tool", "entrant:lure-matcher", "--suite",
                          "demo-sms", "--split", "all", "--train-split", "all"],
                         capture_output=True, text=True, env=env, timeout=900, check=False)
    if run.returncode != 0:
        return "sandbox: the run was refused: " + (run.stderr.strip().splitlines() or ["?"])[-1]
    grade = next((line for line in run.stderr.splitlines() if ":" in line and "on demo-sms"
                  in line), "").strip()
    return (f"the regulator runs the hub's reference lure matcher in the sandbox: "
            f"{grade or 'card stored'} (run {run.stdout.strip()})")


def replay(base: str, prepared: Prepared, options: DemoOptions,
           say: Callable[[str], None], stop: threading.Event) -> Context | None:
    """Play every step against the server at ``base``; None if it never came up."""
    if not _wait_healthy(base, stop):
        say("the hub did not come up; see the messages above")
        return None
    clients = {org: httpx.Client(base_url=base, timeout=120,
                                 headers={"Authorization": f"Bearer {key}"})
               for org, key in prepared.keys.items()}
    ctx = Context(clients)
    story: list[Step] = steps()
    try:
        for i, step in enumerate(story, 1):
            if stop.is_set():
                return ctx
            say(f"[{i:2}/{len(story)}] {step.run(ctx)}")
            if options.pause:
                stop.wait(options.pause)
        if options.sandbox:
            say(f"[--/{len(story)}] {sandbox_step(options, prepared.database_url)}")
        (options.folder / "demo-story.json").write_bytes(orjson.dumps(
            {"reports": ctx.reports, "red_report": ctx.red_report,
             "red_audience": ctx.red_audience}, option=orjson.OPT_INDENT_2))
        for line in summary(ctx):
            say(line)
    finally:
        for client in clients.values():
            client.close()
    return ctx


def summary(ctx: Context) -> list[str]:
    """What the hub made of it, as the hub operator sees it."""
    hub_view = ctx.clients["HUB"]
    found = hub_view.get("/api/v1/campaigns").json().get("campaigns", [])
    lines = [f"campaigns: {len(found)}"]
    for c in found:
        countries = ", ".join(x["country"] for x in c.get("countries", []))
        lines.append(f"  {c['id']}: {c['reports']} reports from {countries}")
    told = {org: len(client.get("/api/v1/alerts").json().get("alerts", []))
            for org, client in ctx.clients.items() if org in MEMBER_STATES}
    lines.append("regional alerts received: " + ", ".join(f"{o} {n}" for o, n in
                                                          sorted(told.items())))
    lines += [f"note: {s}" for s in dict.fromkeys(ctx.skipped)]
    lines.append("demo: scenario complete")
    return lines


__all__ = ["DemoError", "DemoOptions", "Prepared", "check_folder", "prepare",
           "replay"]
