"""Debrief's engine: incidents, timeline, knowledge, assistant, postmortem, trackers. Never imports errbot."""
