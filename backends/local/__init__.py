"""Errbot's Text console and test backend with Debrief's outgoing redaction (`console.py`, `in_memory.py`)."""
