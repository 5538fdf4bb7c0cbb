"""Filing action items to the trackers exactly once, through an outbox, and reading their status back."""

from agent.filing.changes import ChangeRun, complete_action, drop_action, edit_action
from agent.filing.filer import Filer, FilingError
from agent.filing.listing import (
    ActionListing,
    ListedAction,
    list_actions,
    overdue_actions,
    ticket_json,
    ticket_note,
)
from agent.filing.outbox import Claim, Outbox, OutboxEntry, OutboxState
from agent.filing.report import FilingOutcome, FilingReport, FilingResult, StatusResult
from agent.filing.run import FilingRun, file_and_sync, file_on_publish

__all__ = [
    "ActionListing",
    "ChangeRun",
    "Claim",
    "Filer",
    "FilingError",
    "FilingOutcome",
    "FilingReport",
    "FilingResult",
    "FilingRun",
    "ListedAction",
    "Outbox",
    "OutboxEntry",
    "OutboxState",
    "StatusResult",
    "complete_action",
    "drop_action",
    "edit_action",
    "file_and_sync",
    "file_on_publish",
    "list_actions",
    "overdue_actions",
    "ticket_json",
    "ticket_note",
]
