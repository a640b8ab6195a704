"""``bayanihan``: the command line (see :mod:`bayanihan.cli.main`)."""

from bayanihan.cli.main import app, main

__all__ = ["app", "main"]
