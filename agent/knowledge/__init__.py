"""The knowledge base: Markdown runbooks and past incidents, ingested into Chroma + BM25, searched hybrid."""

from agent.knowledge.base import KnowledgeBase, open_knowledge_base, open_knowledge_or_none

__all__ = ["KnowledgeBase", "open_knowledge_base", "open_knowledge_or_none"]
