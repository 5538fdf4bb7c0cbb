"""Action items: parsing what people type, the items themselves, and the quality gate before filing."""

from agent.actions.gate import GateResult, apply_gate, check
from agent.actions.parse import ActionParseError, ParsedAction, parse_action
from agent.actions.service import ActionService, UnknownAction, idempotency_key, to_action

__all__ = [
    "ActionParseError",
    "ActionService",
    "GateResult",
    "ParsedAction",
    "UnknownAction",
    "apply_gate",
    "check",
    "idempotency_key",
    "parse_action",
    "to_action",
]
