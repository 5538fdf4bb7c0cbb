"""The database behind the engine: SQLite (WAL) by default, PostgreSQL via psycopg 3."""

from agent.store.bot_state import BotState
from agent.store.errors import StoreError
from agent.store.migrations import LATEST_VERSION, MIGRATIONS, migrate
from agent.store.store import Store, add_audit, first_line, normalize_url

__all__ = [
    "LATEST_VERSION",
    "MIGRATIONS",
    "BotState",
    "Store",
    "StoreError",
    "add_audit",
    "first_line",
    "migrate",
    "normalize_url",
]
