"""`debrief run`, `debrief replay` and `debrief health`: the bot itself, a transcript through it, and its check."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from debrief.cli.app import echo, emit, main, read_json_file, settings_of, user_errors


@main.command()
@click.argument("transcript", type=click.Path(path_type=Path))
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the replayed incident in DIR (default: DEBRIEF_REPLAY_DATA_DIR, else a fresh temporary dir).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def replay(ctx: click.Context, transcript: Path, data_dir: Path | None, as_json: bool) -> None:
    """Feed TRANSCRIPT.json through the real bot, in order, and print every reply.

    It never touches the live data: a fresh temporary data dir unless --data-dir says where to keep it.
    """
    from debrief.bot.replay import replay as run_replay
    from debrief.bot.replay import replay_settings

    with user_errors(), replay_settings(settings_of(ctx), data_dir) as settings:
        result = run_replay(settings, read_json_file(transcript))

    def human() -> None:
        for reply in result.replies:
            echo(f"> {reply.to}\n{reply.text}\n")
        echo(f"incident: {result.incident_id or 'none'}")

    emit(as_json, result.model_dump(), human)
    if result.dropped:
        echo(f"debrief: error: {result.dropped} messages could not be recorded (the log says why)", err=True)
        sys.exit(1)


@main.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Start the bot on the configured backend (DEBRIEF_BACKEND, default: the Text console).

    A backend name no backend has, or a chat backend without its credentials, stops it before Errbot starts,
    with the line `debrief health` fails with.
    """
    from debrief.bot.health import check_backend
    from debrief.bot.runner import run_bot

    with user_errors():
        settings = settings_of(ctx)
        check_backend(settings)
        run_bot(settings)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def health(ctx: click.Context, as_json: bool) -> None:
    """Check the database, backend, admins, trackers, LLM and webhooks, one line each (no network calls).

    Exits 0 unless a check failed (warnings do not count): the container's health check.
    JSON: `{"ok", "checks": [{"name", "verdict", "detail"}]}`.
    """
    from debrief.bot.health import Verdict, check_installation

    with user_errors():
        checks = check_installation(settings_of(ctx))
    failed = any(check.verdict is Verdict.FAIL for check in checks)
    payload = {
        "ok": not failed,
        "checks": [{"name": c.name, "verdict": c.verdict.value, "detail": c.detail} for c in checks],
    }

    def human() -> None:
        for check in checks:
            echo(check.line())

    emit(as_json, payload, human)
    if failed:
        sys.exit(1)
