"""Errbot's storage in Debrief's SQL store (`sql_storage.py`), loaded by Errbot as the `DebriefSQL` storage."""
