"""The knowledge base: Markdown runbooks and past incidents, ingested into Chroma + BM25, searched hybrid."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.knowledge.base import KnowledgeBase, open_knowledge_base, open_knowledge_or_none

__all__ = ["KnowledgeBase", "open_knowledge_base", "open_knowledge_or_none"]


def __getattr__(name: str) -> object:
    """The base (and Chroma's client with it) loads on first use, so that reading `agent.knowledge.relevance`'s
    floor for the command line's help does not load it."""
    if name in __all__:
        from agent.knowledge import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
