"""`python -m debrief` is the `debrief` command."""

from debrief.cli import main

main()
