"""The chat model: langchain-openai's `ChatOpenAI` against any OpenAI-compatible endpoint, or none.

Built on demand from settings (never at import time). Without `OPENAI_API_KEY` Debrief runs in retrieval /
template mode, so callers must handle `None`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.settings import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

MAX_RETRIES = 1  # one quick retry; a failing LLM falls back to retrieval mode instead of making people wait


def make_chat_model(settings: Settings) -> BaseChatModel | None:
    """A `ChatOpenAI` with bounded timeouts, or None when no LLM is configured."""
    if not settings.llm_enabled:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.llm_model,
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout_s,
        max_retries=MAX_RETRIES,
        temperature=0,
    )
