"""``python -m bpm.cli``: the `bpm` command."""

from bpm.cli import main

main()
