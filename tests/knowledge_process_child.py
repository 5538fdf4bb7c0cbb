"""One Debrief process of `tests/test_knowledge_shared_services.py`: settings from the environment, as a bot's.

Reads one JSON command per line on stdin and answers one JSON line on stdout, until stdin closes:
  {"ingest": [PATH, ...]}                      -> {"files", "removed"}   (what publishing a postmortem does)
  {"search": QUERY, "mode": M, "kind": K}      -> {"sources": [...]}     (what answering a question does)
  {"start": TITLE, "room": ROOM}               -> {"incident": "INC-n"}
  {"open": true}                               -> {"incidents": ["INC-n", ...]}
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.engine import Engine
from agent.knowledge import open_knowledge_base
from agent.settings import load_settings


def main() -> None:
    settings = load_settings()
    knowledge = open_knowledge_base(settings)
    engine = Engine.from_settings(settings)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command: dict[str, Any] = json.loads(line)
        if "ingest" in command:
            report = knowledge.ingest([Path(p) for p in command["ingest"]], progress=False)
            answer: dict[str, Any] = {"files": report.files, "removed": report.removed}
        elif "search" in command:
            hits = knowledge.search(
                command["search"], kind=command.get("kind"), mode=command.get("mode", "hybrid")
            )
            answer = {"sources": [hit.source for hit in hits]}
        elif "start" in command:
            incident = engine.incidents.start(command["room"], command["start"], "alice", datetime.now(UTC))
            answer = {"incident": incident.id}
        else:
            answer = {"incidents": [incident.id for incident in engine.incidents.list_open()]}
        print(json.dumps(answer), flush=True)
    engine.close()


if __name__ == "__main__":
    main()
