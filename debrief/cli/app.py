"""The `debrief` command group and what its commands share: settings, one-line errors, JSON or human output.

Each command lives in the module of its command group (`knowledge`, `assistant`, `actions`, `postmortem`,
`serve`): it parses, calls one engine function, prints. `--json` output goes to stdout; logs and progress go
to stderr. Errors are one line, never a traceback. Commands import the engine when they run, not when the command
line is read, so `--help` and a mistyped option answer at once.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from agent.errors import DebriefError, SettingsError
from agent.redact import install_log_redaction, redact, redact_tree, use_policy
from agent.wellformed import well_formed

if TYPE_CHECKING:
    from agent.settings import Settings

log = logging.getLogger("debrief")
# The largest transcript a command reads: a day-long incident's chat is a few MB; /dev/zero never ends.
MAX_TRANSCRIPT_BYTES = 50_000_000


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn Debrief's errors into one clear line and a non-zero exit."""
    from sqlalchemy.exc import SQLAlchemyError

    from agent.store import first_line

    try:
        yield
    except SettingsError as exc:
        echo(f"debrief: configuration error: {exc}", err=True)
        sys.exit(2)
    except DebriefError as exc:
        echo(f"debrief: error: {exc}", err=True)
        sys.exit(1)
    except SQLAlchemyError as exc:  # the database failed mid-command (locked, read-only, gone)
        echo(f"debrief: error: the database failed: {first_line(exc)}", err=True)
        sys.exit(1)


def plain_text(value: str) -> str:
    """Text from the command line or a pipe as Debrief can store, search and print it: the bytes that were not
    UTF-8 (Python keeps them as lone surrogates) become U+FFFD, as `bytes.decode(errors="replace")` makes them."""
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate that stands for no byte
        return well_formed(value)


class TextParam(click.ParamType[str]):
    """A free-text argument or option (a query, a question, a name): see `plain_text`. Paths stay as given."""

    name = "text"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return plain_text(str(value))


TEXT = TextParam()


def settings_of(ctx: click.Context) -> Settings:
    from agent.settings import Settings

    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def echo(text: str, err: bool = False) -> None:
    """Print a line of human output: everything the command line prints passes the redactor."""
    click.echo(redact(text), err=err)


def echo_json(payload: dict[str, Any]) -> None:
    """Print one JSON object, every string in it redacted (the structure is kept: no quoting is cut)."""
    click.echo(json.dumps(redact_tree(payload), ensure_ascii=False, default=str))


def emit(as_json: bool, payload: dict[str, Any], human: Callable[[], None]) -> None:
    if as_json:
        echo_json(payload)
    else:
        human()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log more to stderr.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Debrief: the incident channel's assistant, timeline keeper and postmortem writer."""
    from agent.settings import check_services, load_settings

    level = logging.DEBUG if verbose else logging.WARNING
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)  # some libraries (bm25s) set their own loggers to DEBUG
    install_log_redaction()
    with user_errors():
        settings = load_settings()
        use_policy(emails=settings.redact_emails)
        check_services(settings)
    ctx.obj = settings


def read_bounded(path: Path, max_bytes: int, hint: str = "") -> bytes:
    """The file's bytes, at most `max_bytes` read (a pipe or /dev/zero never ends), or one clear error."""
    try:
        with path.open("rb") as file:
            raw = file.read(max_bytes + 1)
    except OSError as exc:
        raise DebriefError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:
        raise DebriefError(f"{path} is larger than {max_bytes // 1_000_000} MB, the most it may be{hint}")
    return raw


def read_json_file(path: Path) -> dict[str, object]:
    """A JSON object from a file of at most MAX_TRANSCRIPT_BYTES, or one clear error saying what is wrong."""
    raw = read_bounded(path, MAX_TRANSCRIPT_BYTES)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DebriefError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DebriefError(f"{path} must hold a JSON object with 'room' and 'messages'")
    return data
