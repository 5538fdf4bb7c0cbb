"""Debrief's host for the engine (`agent/`): the `debrief` command line (`cli/`) and the Errbot bot (`bot/`)."""
