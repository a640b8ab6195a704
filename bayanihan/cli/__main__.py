"""``python -m bayanihan.cli``: the same as the ``bayanihan`` command."""

from bayanihan.cli.main import main

main()
