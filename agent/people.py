"""People by name: Debrief keeps each platform's id of a person (roles, commanders and owners must not change when
someone renames themselves), and an id reads as noise ("29:1f8a...", "U04QX9R2K").

A chat backend learns the names shown for the people it sees (who wrote, who was mentioned) and its replies write
each id it knows as that name (`People`). The engine's `Directory` keeps the names it is told in the database, so
a postmortem's Markdown names people too, after a restart and from the command line. Only whole ids are replaced,
never inside Slack's own `<@U123>` mention or a longer word; an id no one has named stays an id.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from datetime import datetime

from sqlalchemy import select

from agent.store.dedupe import upsert
from agent.store.store import Store
from agent.store.tables import PersonRow

# How many people a backend remembers: the most recently seen are kept.
REMEMBERED = 10_000


class People:
    """Person ids and the names shown for them, in memory: what a backend's replies and the directory read."""

    def __init__(self, limit: int = REMEMBERED) -> None:
        self._names: OrderedDict[str, str] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None  # with `_shown`, rebuilt after a change, not per reply
        self._shown: dict[str, str] = {}

    def learn(self, person_id: str, name: str | None) -> None:
        """`person_id` is shown as `name` from now on (a blank name, or the id itself, teaches nothing)."""
        person_id, shown = person_id.strip(), " ".join((name or "").split())
        if not person_id or not shown or shown == person_id:
            return
        with self._lock:
            if self._names.get(person_id) != shown:
                self._names[person_id] = shown
                self._pattern = None
            self._names.move_to_end(person_id)
            while len(self._names) > self._limit:
                self._names.popitem(last=False)
                self._pattern = None

    def name_of(self, person_id: str) -> str | None:
        return self._names.get(person_id)

    def as_dict(self) -> dict[str, str]:
        with self._lock:
            return dict(self._names)

    def named(self, text: str) -> str:
        """`text` with every known id written as its person's name."""
        with self._lock:
            if not self._names:
                return text
            if self._pattern is None:
                ids = "|".join(re.escape(known) for known in sorted(self._names, key=len, reverse=True))
                self._pattern = re.compile(rf"(?<![\w@<:/.-])(?:{ids})(?![\w>|:/-])")
                self._shown = dict(self._names)
            pattern, shown = self._pattern, self._shown
        return pattern.sub(lambda match: shown[match[0]], text)


# What a name may not hold in a document: table cells, code, emphasis, links, HTML.
_MARKUP = re.compile(r"[|`*<>\[\]\\]")
NAME_CHARS = 200  # a display name longer than this is cut (the column holds 255)


class Directory:
    """The names chat platforms show for person ids, kept in the database (`PersonRow`)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._known: People | None = None
        self._lock = threading.Lock()

    def learn(self, person_id: str, name: str | None, at: datetime) -> None:
        """`person_id` is shown as `name` (written once per change, not per message)."""
        person_id, shown = person_id.strip(), _clean(name or "")
        known = self._people()
        if not person_id or not shown or shown == person_id or known.name_of(person_id) == shown:
            return
        with self._store.write() as session:  # two bots naming the same person cannot collide
            upsert(session, PersonRow, {"person_id": person_id, "name": shown, "seen_at": at}, ("person_id",))
        known.learn(person_id, shown)

    def knows(self, person_id: str, name: str) -> bool:
        """Whether `person_id` is already known as `name` (nothing to write)."""
        return self._people().name_of(person_id.strip()) == _clean(name)

    def names(self) -> dict[str, str]:
        """Every known person id and its name."""
        return self._people().as_dict()

    def named(self, text: str) -> str:
        """`text` with every known id written as its person's name."""
        return self._people().named(text)

    def _people(self) -> People:
        with self._lock:
            if self._known is None:
                known = People()
                with self._store.read() as session:
                    for person_id, name in session.execute(select(PersonRow.person_id, PersonRow.name)):
                        known.learn(person_id, name)
                self._known = known
            return self._known


def _clean(name: str) -> str:
    return " ".join(_MARKUP.sub(" ", name).split())[:NAME_CHARS].strip()
