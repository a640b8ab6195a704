"""``bayanihan demo``: the region's story, live, on a fresh SQLite hub (no network needed)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from bayanihan.cli.common import err, out, port_in_use, run
from bayanihan.cli.demo_setup import check_folder, prepare, sandbox_runs
from bayanihan.config import Settings
from bayanihan.demo.run import DemoError, DemoOptions, replay
from bayanihan.hub import Hub


def demo(
    folder: Annotated[Path, typer.Option(help="Folder for the demo hub (created; must not "
                                              "hold one already).")] = Path("bayanihan-demo"),
    port: Annotated[int, typer.Option(envvar="BAYANIHAN_PORT",
                                      help="Port to serve on (loopback).")] = 8000,
    speed: Annotated[float, typer.Option(
        min=0.1, help="Replay speed: 1 tells the story in about two minutes, 4 four times "
                      "faster.")] = 1.0,
    fast: Annotated[bool, typer.Option("--fast", envvar="BAYANIHAN_DEMO_FAST",
                                       help="No pauses between steps (for tests).")] = False,
    exit_when_done: Annotated[bool, typer.Option(
        "--exit-when-done", envvar="BAYANIHAN_DEMO_EXIT",
        help="Stop the server once the story is told (default: keep serving until Ctrl-C).")]
    = False,
    sandbox: Annotated[bool, typer.Option(help="Also run the sandbox step.")] = True,
) -> None:
    """Create a demo hub, start it, and replay a regional scenario against it.

    Example: bayanihan demo --folder /tmp/bayanihan-demo --port 8000
    """
    if port_in_use("127.0.0.1", port):
        err.print(f"[red]error:[/] 127.0.0.1:{port} is already in use; choose another port "
                  "with --port")
        raise typer.Exit(2)
    run(lambda: check_folder(folder))
    options = DemoOptions(folder=folder, port=port, pause=0.0 if fast else 8.0 / speed,
                          serve_after=not exit_when_done, sandbox=sandbox)
    prepared = run(lambda: prepare(folder))
    base = f"http://127.0.0.1:{port}"
    err.print(f"demo hub in {folder}/ (SQLite); keys in {folder}/demo-keys.json")
    err.print(f"dashboard: {base}/  — sign in as:")
    for name, org, role, password in prepared.users:
        second = " (enrol a TOTP app at first sign-in)" if role != "reader" else ""
        err.print(f"  {name} / {password}   {org} {role}{second}")

    settings = Settings(database_url=prepared.database_url, host="127.0.0.1", port=port,
                        data_dir=str(folder.resolve()), log_level="warning")
    logging.basicConfig(level=logging.WARNING, force=True)
    hub = Hub(settings)
    hub.open()
    hub.validation.allow()
    from bayanihan.api.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(settings, hub), host="127.0.0.1",
                                           port=port, log_level="warning", access_log=False))
    stop = threading.Event()
    failed: list[str] = []

    def story() -> None:
        try:
            replay(base, prepared.keys, options,
                   lambda line: out.print(line, highlight=False, soft_wrap=True), stop,
                   finale=lambda: sandbox_runs(folder, prepared.database_url))
        except DemoError as exc:
            failed.append(str(exc))
            err.print(f"[red]error:[/] the demo step failed: {exc}")
        except Exception as exc:  # the server keeps serving; say what broke
            failed.append(repr(exc))
            err.print(f"[red]error:[/] the demo stopped: {exc!r}")
        if not options.serve_after or failed:
            server.should_exit = True
        else:
            err.print(f"still serving on {base}/ — Ctrl-C to stop")

    teller = threading.Thread(target=story, name="demo-story", daemon=True)
    teller.start()
    try:
        server.run()
    finally:
        stop.set()
        teller.join(timeout=30)
        hub.close()
    if failed:
        raise typer.Exit(1)
