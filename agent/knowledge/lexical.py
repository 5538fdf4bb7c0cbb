"""BM25 over whole documents (Chroma has no sparse index locally). Title and headings weigh more than body."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import bm25s
import numpy as np
import Stemmer

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[A-Za-z0-9]+")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "this",
        "to",
        "up",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "again",
        "any",
        "anything",
        "keep",
        "keeps",
        "still",
        "just",
        "some",
    ]
)
TITLE_WEIGHT = 3
HEADING_WEIGHT = 2


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed words; CamelCase alert names split into words (KubePodCrashLooping -> kube pod ...)."""
    words: list[str] = []
    for word in _WORD.findall(text):
        parts = _CAMEL.split(word) if not word.isupper() else [word]
        words.extend(part.lower() for part in parts)
        if len(parts) > 1:
            words.append(word.lower())
    stems: list[str] = _stemmer().stemWords([w for w in words if w not in _STOPWORDS and len(w) > 1])
    return stems


@dataclass(frozen=True)
class LexicalDocument:
    doc_id: str
    kind: str
    title: str
    headings: str
    body: str

    def tokens(self) -> list[str]:
        return (
            tokenize(self.title) * TITLE_WEIGHT
            + tokenize(self.headings) * HEADING_WEIGHT
            + tokenize(self.body)
        )


class LexicalIndex:
    """Document-level BM25; `scores` returns one score per document, in `doc_ids` order."""

    def __init__(self, documents: Sequence[LexicalDocument]) -> None:
        self.doc_ids = [doc.doc_id for doc in documents]
        self._kinds = np.array([doc.kind for doc in documents], dtype=object)
        self._bm25: bm25s.BM25 | None = None
        corpus = [doc.tokens() or ["\u2205"] for doc in documents]
        if corpus:
            self._bm25 = bm25s.BM25()
            self._bm25.index(corpus, show_progress=False)

    def scores(self, query: str, kind: str | None = None) -> np.ndarray:
        tokens = tokenize(query)
        if self._bm25 is None or not tokens:
            return np.zeros(len(self.doc_ids), dtype=np.float32)
        vocab = self._bm25.vocab_dict
        known = [token for token in tokens if token in vocab]
        if not known:
            return np.zeros(len(self.doc_ids), dtype=np.float32)
        scores = np.asarray(self._bm25.get_scores(known), dtype=np.float32)
        if kind is not None:
            scores = np.where(self._kinds == kind, scores, 0.0).astype(np.float32)
        return scores
