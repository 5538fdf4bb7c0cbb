"""A scripted chat model: the real agent graph, tool runner and structured-output parser run, only the model is fake.

    model = scripted(tool_call("search_runbooks", query="pods restarting"), "Roll back [runbook:...]")
    model = scripted(TimeoutError("the LLM timed out"))

Each model call takes the next reply of the script: an `AIMessage` (text or tool calls) or a `str` is the answer,
an exception is raised; a call with nothing left to answer fails. Every prompt is recorded in `prompts`.
Like `ChatOpenAI`, `bind_tools` accepts any tools (the script decides what is called; the last bound are kept in
`tools`) and `with_structured_output` uses function calling, so a structured answer is a `tool_call` reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from pydantic import Field

Reply = AIMessage | str | Exception


class ScriptedChatModel(BaseChatModel):
    """A chat model that answers from a script (messages or exceptions) and records every prompt it got."""

    # Reply items, typed Any: pydantic would try to read an exception as a message.
    replies: list[Any] = Field(default_factory=list)
    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    tools: list[Any] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.prompts.append(list(messages))
        if not self.replies:
            raise AssertionError("the scripted model has no reply left")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        message = AIMessage(reply) if isinstance(reply, str) else reply
        return ChatResult(generations=[ChatGeneration(message=message)])

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        self.tools = list(tools)
        return self

    def with_structured_output(
        self, schema: Any, *, method: str = "function_calling", include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, Any]:
        assert method == "function_calling", method
        return super().with_structured_output(schema, include_raw=include_raw, **kwargs)

    def prompt_text(self) -> str:
        """Every prompt's messages, as one text."""
        return "\n".join(str(message.content) for prompt in self.prompts for message in prompt)


def scripted(*replies: Reply) -> ScriptedChatModel:
    return ScriptedChatModel(replies=list(replies))


def tool_call(name: str, call_id: str = "call_1", **arguments: Any) -> AIMessage:
    """A model turn that calls one tool (or, for `with_structured_output`, gives the schema's fields)."""
    return AIMessage("", tool_calls=[{"name": name, "args": arguments, "id": call_id, "type": "tool_call"}])
