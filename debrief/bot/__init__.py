"""The Errbot host: Debrief's settings as Errbot's config, the engine the plugins share, what a chat message means."""
