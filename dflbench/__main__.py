"""`python -m dflbench` runs the command-line interface."""

from dflbench.cli import main

main()
