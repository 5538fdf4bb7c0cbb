"""`debrief ask QUESTION [--incident ID]`: one question to the assistant from the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from debrief.cli.app import TEXT, echo, emit, main, settings_of, user_errors

if TYPE_CHECKING:
    from agent.assistant import Answer
    from agent.settings import Settings


def answer(settings: Settings, question: str, incident_id: str | None = None) -> Answer:
    """The assistant's answer; about an incident (and remembered in its thread) when `incident_id` is given.

    The knowledge dir is ingested first (incrementally: unchanged files cost nothing), as the bot does on
    start, so a fresh install answers from it. JSON: `answer.model_dump()`.
    """
    from agent.assistant import open_assistant
    from agent.engine import Engine

    engine = Engine.from_settings(settings)
    try:
        assistant = open_assistant(settings, engine, refresh_knowledge=True)
        try:
            return assistant.ask(question, incident_id=incident_id)
        finally:
            assistant.close()
    finally:
        engine.close()


@main.command()
@click.argument("question", type=TEXT)
@click.option(
    "--incident", "incident_id", type=TEXT, metavar="ID", help="Answer in the context of this incident."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def ask(ctx: click.Context, question: str, incident_id: str | None, as_json: bool) -> None:
    """Ask the assistant; the answer cites its sources (retrieval-only without an LLM)."""
    from agent.knowledge.vectors import store_errors, store_location

    settings = settings_of(ctx)
    with user_errors(), store_errors(store_location(settings)):
        reply = answer(settings, question, incident_id)

    def human() -> None:
        from backends.rendering.console import plain_text

        echo(plain_text(reply.answer))  # the answer is Markdown, shown as the console shows it

    emit(as_json, reply.model_dump(), human)
