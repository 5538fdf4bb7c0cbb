"""Action items: parsing what people type, the items themselves, and the quality gate before filing."""

from agent.actions.gate import GateResult, apply_gate, check
from agent.actions.parse import (
    ActionParseError,
    ActionRef,
    ParsedAction,
    ParsedEdit,
    parse_action,
    parse_drop,
    parse_edit,
    parse_ref,
)
from agent.actions.service import (
    ActionChange,
    ActionError,
    ActionService,
    UnknownAction,
    idempotency_key,
    to_action,
)

__all__ = [
    "ActionChange",
    "ActionError",
    "ActionParseError",
    "ActionRef",
    "ActionService",
    "GateResult",
    "ParsedAction",
    "ParsedEdit",
    "UnknownAction",
    "apply_gate",
    "check",
    "idempotency_key",
    "parse_action",
    "parse_drop",
    "parse_edit",
    "parse_ref",
    "to_action",
]
