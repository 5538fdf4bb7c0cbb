"""A signal: an alert or a deploy read from a webhook, ready to become a key event of the incident it concerns.

Payload shapes are checked with pydantic so a malformed request is refused with the field at fault, before
anything is recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from agent.errors import DebriefError
from agent.models import EventKind

_Model = TypeVar("_Model", bound=BaseModel)


class WebhookPayloadError(DebriefError):
    """The request body is not the payload this webhook accepts; the message names the field."""


@dataclass(frozen=True)
class Signal:
    """An alert or deploy, ready to become a key timeline event of the incident for `service`."""

    service: str | None
    at: datetime
    author: str
    text: str
    kind: EventKind
    source: str


def parse_payload(model: type[_Model], body: bytes) -> _Model:
    """The payload as `model`; `WebhookPayloadError` names what is wrong (never a traceback)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookPayloadError("the request body is not valid JSON") from None
    except RecursionError:
        raise WebhookPayloadError("the request body is nested too deeply to be a webhook payload") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise WebhookPayloadError(_first_problem(exc)) from None


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return f"{where}: {error['msg']}"
