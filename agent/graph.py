"""The LangGraph wiring, kept in this one small file because the framework's API moves.

`build_graph` returns a compiled tool-calling agent (`langchain.agents.create_agent`); nothing is built at
import time. A middleware sits in front of every model call: it enforces the run's deadline, redacts every
message the model is about to see, and shows only the recent turns of the conversation, so a long incident
thread never blows up the context. The checkpointer keeps each thread's conversation (SQLite in the data dir).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, RemoveMessage, ToolMessage
from langgraph.errors import GraphRecursionError

from agent.errors import DebriefError
from agent.prompts import SYSTEM_PROMPT
from agent.redact import redact

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import RunnableConfig
    from langchain_core.tools import BaseTool
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.checkpoint.sqlite import SqliteSaver
    from langgraph.graph.state import CompiledStateGraph
    from langgraph.runtime import Runtime

MAX_TOOL_ROUNDS = 4
RECURSION_LIMIT = 2 * MAX_TOOL_ROUNDS + 1  # model, tools, model, ... and the final answer
HISTORY_TOKENS = 2000  # earlier questions and answers the model sees, estimated at 4 characters per token
STORED_MESSAGES = 60  # messages a thread keeps in the checkpointer


class ModelFailure(DebriefError):
    """The model gave no usable answer: too slow, too many steps, an empty or malformed reply."""


class _Guard(AgentMiddleware[AgentState[Any], Any]):
    """Deadline, redaction and a bounded history in front of every model call."""

    def __init__(self, redact: Callable[[str], str], deadline: float | None) -> None:
        super().__init__()
        self._redact = redact
        self._deadline = deadline

    def before_agent(self, state: AgentState[Any], runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Forget the oldest turns of a long thread, so checkpoints stay small."""
        messages: list[AnyMessage] = state["messages"]
        if len(messages) <= STORED_MESSAGES:
            return None
        keep_from = _turn_start(messages, len(messages) - STORED_MESSAGES)
        return {"messages": [RemoveMessage(id=m.id) for m in messages[:keep_from] if m.id]}

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ModelResponse[Any]:
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise ModelFailure("the model ran out of time before answering")
        shown = [self._redacted(m) for m in _recent(_paired(request.messages), HISTORY_TOKENS)]
        return handler(request.override(messages=shown))

    def _redacted(self, message: AnyMessage) -> AnyMessage:
        """The message with its text and its tool-call arguments redacted (the model sees both again)."""
        update: dict[str, Any] = {}
        if isinstance(message.content, str):
            update["content"] = self._redact(message.content)
        if isinstance(message, AIMessage) and message.tool_calls:
            update["tool_calls"] = [
                {**call, "args": self._redact_value(call["args"])} for call in message.tool_calls
            ]
            update["additional_kwargs"] = {
                k: v for k, v in message.additional_kwargs.items() if k != "tool_calls"
            }
        return message.model_copy(update=update) if update else message

    def _redact_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._redact(value)
        if isinstance(value, dict):
            return {key: self._redact_value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._redact_value(item) for item in value]
        return value


def build_graph(
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    *,
    system_prompt: str = SYSTEM_PROMPT,
    redactor: Callable[[str], str] = redact,
    deadline: float | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """A compiled agent graph; `deadline` (time.monotonic) stops further model calls once passed."""
    return create_agent(
        model,
        list(tools),
        system_prompt=system_prompt,
        middleware=[_Guard(redactor, deadline)],
        checkpointer=checkpointer,
    )


def run_graph(graph: CompiledStateGraph[Any, Any, Any, Any], text: str, thread_id: str | None) -> str:
    """One user turn through the graph; the final answer's text. `ModelFailure` when there is none."""
    config: RunnableConfig = {"recursion_limit": RECURSION_LIMIT}
    options: dict[str, Any] = {}
    if thread_id:
        config["configurable"] = {"thread_id": thread_id}
        # Memory is written once, when the turn ends: a crash mid-turn loses only that turn's scratch work.
        options["durability"] = "exit"
    try:
        state = graph.invoke({"messages": [HumanMessage(text)]}, config, **options)
    except GraphRecursionError:
        raise ModelFailure(f"the model did not answer within {MAX_TOOL_ROUNDS} tool rounds") from None
    return final_text(state["messages"][-1])


def final_text(message: AnyMessage) -> str:
    """The answer in the model's last message; `ModelFailure` if it is empty or a broken tool call."""
    if not isinstance(message, AIMessage) or message.invalid_tool_calls or message.tool_calls:
        raise ModelFailure("the model's reply was malformed")
    text = message.text.strip()
    if not text:
        raise ModelFailure("the model's reply was empty")
    return text


def open_checkpointer(path: Path) -> SqliteSaver:
    """Conversation memory in a SQLite file; safe to share between threads (the saver locks)."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")  # no fsync per answer; a power cut may lose the last turn
    saver = SqliteSaver(connection)
    saver.setup()
    return saver


def _recent(messages: list[AnyMessage], budget: int) -> list[AnyMessage]:
    """The current turn in full, and before it as many earlier questions and answers as fit in `budget` tokens.

    Earlier turns lose their tool calls and results: the answers quote what mattered, and the model can look
    again. This keeps a long incident thread's prompt small.
    """
    start = _turn_start(messages, len(messages) - 1)
    earlier: list[AnyMessage] = []
    used = 0
    for message in reversed(messages[:start]):
        if isinstance(message, ToolMessage) or (isinstance(message, AIMessage) and message.tool_calls):
            continue
        used += _tokens(message)
        if used > budget:
            break
        earlier.insert(0, message)
    return _from_turn_start(earlier) + messages[start:]


def _from_turn_start(messages: list[AnyMessage]) -> list[AnyMessage]:
    """History must start with a question, not with the answer to a question that was cut."""
    first = next((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), len(messages))
    return messages[first:]


def _turn_start(messages: list[AnyMessage], index: int) -> int:
    """Index of the human message that starts the turn containing `index` (0 if none)."""
    for position in range(max(index, 0), -1, -1):
        if isinstance(messages[position], HumanMessage):
            return position
    return 0


def _paired(messages: list[AnyMessage]) -> list[AnyMessage]:
    """Drop tool calls left unanswered by an interrupted run (and stray results): the API rejects them."""
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    kept: list[AnyMessage] = []
    calls: set[str] = set()
    for message in messages:
        if isinstance(message, AIMessage) and message.tool_calls:
            ids = {str(call["id"]) for call in message.tool_calls}
            if not ids <= answered:
                continue
            calls |= ids
        if isinstance(message, ToolMessage) and message.tool_call_id not in calls:
            continue
        kept.append(message)
    return kept


def _tokens(message: AnyMessage) -> int:
    size = len(message.text) + sum(
        len(str(call.get("args", ""))) for call in getattr(message, "tool_calls", [])
    )
    return size // 4 + 4
