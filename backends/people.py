"""People by name in replies: the engine keeps each platform's id of a person (roles, commanders and owners must
not change when someone renames themselves), and an id reads as noise in chat ("29:1f8a...", "U04QX9R2K").

A backend learns the display names of the people it sees (who wrote a message, who was mentioned) and its
replies write each id it knows as that name. Only whole ids are replaced, never inside Slack's own `<@U123>`
mention or a longer word; what a backend has not seen stays an id.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

# How many people a backend remembers: the most recently seen are kept.
REMEMBERED = 10_000


class People:
    def __init__(self, limit: int = REMEMBERED) -> None:
        self._names: OrderedDict[str, str] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

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

    def knows(self, person_id: str) -> bool:
        return person_id in self._names

    def named(self, text: str) -> str:
        """`text` with every known id written as its person's name."""
        with self._lock:
            if not self._names:
                return text
            if self._pattern is None:
                ids = "|".join(re.escape(known) for known in sorted(self._names, key=len, reverse=True))
                self._pattern = re.compile(rf"(?<![\w@<:/.-])(?:{ids})(?![\w>|:/-])")
            pattern, names = self._pattern, dict(self._names)
        return pattern.sub(lambda match: names[match[0]], text)
