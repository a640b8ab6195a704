"""``bayanihan``: the command line (see :mod:`bayanihan.cli.main`).

Importing this package imports no command group. :func:`main` starts ``bayanihan export``
with the export module alone — a device's cron job runs it every minute, and the other
groups (campaigns, sandbox, demo…) cost about 0.6 s of CPU and 40 MB to import — and every
other command through :mod:`bayanihan.cli.main`, which mounts them all (``app``).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> Any:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["export"]:
        from bayanihan.cli.common import start
        from bayanihan.cli.export import lone_app

        return start(lone_app(), args)
    from bayanihan.cli.main import main as every_command

    return every_command(args)


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole command line, loaded when asked for
        from bayanihan.cli.main import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
