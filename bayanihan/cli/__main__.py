"""``python -m bayanihan.cli``: the same as the ``bayanihan`` command."""

from bayanihan.cli import main

main()
