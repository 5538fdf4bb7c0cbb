"""Shared fixtures. Errbot's `testbot` fixture drives the real Errbot core in memory."""

from errbot.backends.test import testbot

__all__ = ["testbot"]
