"""``python -m svidok`` runs the command-line interface."""

from svidok.cli import main

main()
