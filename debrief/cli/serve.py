"""`debrief run`, `debrief replay` and `debrief health`: the bot itself, a transcript through it, and its check."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from debrief.cli.app import echo, emit, main, read_json_file, settings_of, user_errors


@main.command()
@click.argument("transcript", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def replay(ctx: click.Context, transcript: Path, as_json: bool) -> None:
    """Feed TRANSCRIPT.json through the real bot, in order, and print every reply."""
    from debrief.bot.replay import replay as run_replay

    with user_errors():
        result = run_replay(settings_of(ctx), read_json_file(transcript))

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
    """Start the bot on the configured backend (DEBRIEF_BACKEND, default: the Text console)."""
    from debrief.bot.runner import run_bot

    with user_errors():
        run_bot(settings_of(ctx))


@main.command()
@click.pass_context
def health(ctx: click.Context) -> None:
    """Exit 0 when the configuration is valid and the database opens and takes writes (the container's check)."""
    from agent.engine import check_database

    with user_errors():
        check_database(settings_of(ctx))
    echo("ok")
