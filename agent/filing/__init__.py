"""Filing action items to the trackers exactly once, through an outbox, and reading their status back."""

from agent.filing.filer import Filer, FilingError
from agent.filing.listing import ActionListing, ListedAction, list_actions, ticket_json, ticket_note
from agent.filing.outbox import Claim, Outbox, OutboxEntry, OutboxState
from agent.filing.report import FilingOutcome, FilingReport, FilingResult, StatusResult
from agent.filing.run import FilingRun, file_and_sync, file_on_publish

__all__ = [
    "ActionListing",
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
    "file_and_sync",
    "file_on_publish",
    "list_actions",
    "ticket_json",
    "ticket_note",
]
