"""The demo's replay: the scenario played against a running hub over its API, step by step,
then what the hub made of it. The hub itself is set up by ``bayanihan.cli.demo_setup``.

Everything happens on loopback with generated material; nothing is fetched. The folder keeps
the database, the admin key, ``demo-keys.json`` (one analyst key per organisation, readable
only by you), ``demo-users.txt`` (the web sign-ins) and ``demo-story.json`` (the ids of what
was reported), so the hub can be explored — and
restarted with ``bayanihan serve --database FOLDER/hub.db`` — after the demo ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

from bayanihan.demo.scenario import Context, DemoError, Step, steps
from bayanihan.model.members import MEMBER_STATES


@dataclass
class DemoOptions:
    folder: Path
    host: str = "127.0.0.1"
    port: int = 8000
    pause: float = 8.0  # seconds between steps (0 with --fast)
    serve_after: bool = True  # keep serving once the story is told
    sandbox: bool = True


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


def replay(base: str, keys: dict[str, str], options: DemoOptions, say: Callable[[str], None],
           stop: threading.Event, finale: Callable[[], list[str]] | None = None
           ) -> Context | None:
    """Play every step against the server at ``base``; None if it never came up."""
    if not _wait_healthy(base, stop):
        say("the hub did not come up; see the messages above")
        return None
    clients = {org: httpx.Client(base_url=base, timeout=120,
                                 headers={"Authorization": f"Bearer {key}"})
               for org, key in keys.items()}
    ctx = Context(clients)
    story: list[Step] = steps()
    try:
        for i, step in enumerate(story, 1):
            if stop.is_set():
                return ctx
            say(f"[{i:2}/{len(story)}] {step.run(ctx)}")
            if options.pause:
                stop.wait(options.pause)
        for line in finale() if finale is not None and options.sandbox else []:
            say(f"[--/{len(story)}] {line}")
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


__all__ = ["DemoError", "DemoOptions", "replay"]
