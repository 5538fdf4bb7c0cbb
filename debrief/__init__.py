"""Debrief's entry points: the `debrief` CLI and the Errbot launcher."""
