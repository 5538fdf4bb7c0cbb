"""BM25 over whole documents (Chroma has no sparse index locally), and the words it is computed on: the title and
the file's name weigh more than the body, alert names are split, and the operations vocabulary (`vocabulary.py`)
adds long forms."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import Stemmer

from agent.knowledge.vocabulary import ALIASES

CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
TOKEN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_PLURAL_NUMBER = re.compile(r"\d+s")
_CAMEL_NAME = re.compile(r"[A-Za-z0-9]*[a-z0-9][A-Z][A-Za-z0-9]*")
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
UNKNOWN_WEIGHT = 2.0  # in `coverage`, a word no document has: as if twice the rarest (tuned: BENCHMARKS.md)
ALIAS_WEIGHT = 0.5  # a query word the vocabulary added, against one typed
# In `coverage`, a question holds at least this many rare words' worth of information (the weight of a word only
# one document has): "any update?" is not wholly covered by every runbook that says "update".
MIN_INFORMATION = 1.0
HEADING_WEIGHT = 1
K1 = 1.5
B = 0.75
# What a saved index was built with: its layout, and a fingerprint of how documents are turned into terms, so that
# a new vocabulary or weighting rebuilds the index from the store instead of scoring new queries on old terms.
_FORMAT = (
    "3:"
    + hashlib.sha1(
        json.dumps([sorted(ALIASES.items()), sorted(_STOPWORDS), TITLE_WEIGHT, HEADING_WEIGHT]).encode()
    ).hexdigest()[:12]
)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def stem_word(word: str) -> str:
    """The stem a lower-case word is indexed under."""
    stem: str = _stemmer().stemWord(word)
    return stem


def stem_words(words: list[str]) -> list[str]:
    stems: list[str] = _stemmer().stemWords(words)
    return stems


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed words. CamelCase alert names are split into words and kept whole
    (KubePodCrashLooping -> kube pod crash looping kubepodcrashlooping podcrash crashlooping ...), hyphenated words
    are also kept joined (back-off -> backoff), and words of the operations vocabulary bring their long forms."""
    return [stem for stem, _ in _stemmed(text)]


def query_terms(text: str) -> dict[str, float]:
    """A query's distinct terms and their weights: 1 for what was typed, ALIAS_WEIGHT for a term only the
    vocabulary brought (`tokenize` says which)."""
    terms: dict[str, float] = {}
    for stem, typed in _stemmed(text):
        terms[stem] = max(terms.get(stem, 0.0), 1.0 if typed else ALIAS_WEIGHT)
    return terms


def readable_name(name: str) -> str:
    """A CamelCase alert name with its words spelled out, for the embedder (which reads "KubeAPIDown" as word
    pieces): "KubeAPIDown" -> "KubeAPIDown (Kube API Down)"; any other title unchanged."""
    if not _CAMEL_NAME.fullmatch(name):
        return name
    return f"{name} ({' '.join(CAMEL.split(name))})"


def spelled_out(text: str) -> str:
    """The text followed by the long forms of its vocabulary words, for the embedder: "PLEG not healthy" ->
    "PLEG not healthy (pod lifecycle event generator)"."""
    added: list[str] = []
    for token in TOKEN.findall(text):
        for word in [token.replace("-", ""), *token.split("-")]:
            for part in {word.lower(), *(p.lower() for p in CAMEL.split(word))}:
                long_form = ALIASES.get(part)
                if long_form and long_form not in added:
                    added.append(long_form)
    return f"{text} ({'; '.join(added)})" if added else text


def _stemmed(text: str) -> list[tuple[str, bool]]:
    """(stem, typed) pairs: typed is False for a long form the vocabulary added."""
    words: list[tuple[str, bool]] = []
    for token in TOKEN.findall(text):
        pieces = token.split("-")
        if len(pieces) > 1:
            words.extend(_with_aliases("".join(pieces).lower()))
        for piece in pieces:
            words.extend(_words(piece))
    kept = [(word, typed) for word, typed in words if word not in _STOPWORDS and len(word) > 1]
    stems: list[str] = _stemmer().stemWords([word for word, _ in kept])
    return [(stem, typed) for stem, (_, typed) in zip(stems, kept, strict=True)]


def _words(word: str) -> list[tuple[str, bool]]:
    if _PLURAL_NUMBER.fullmatch(word):
        word = word[:-1]  # 502s -> 502
    parts = [part.lower() for part in (CAMEL.split(word) if not word.isupper() else [word])]
    words = [alias for part in parts for alias in _with_aliases(part)]
    if len(parts) > 1:
        words.extend(_with_aliases(word.lower()))
        # Adjacent parts joined, as people write them: StatefulSet -> statefulset, CrashLooping -> crashlooping.
        if len(parts) > 2:
            words.extend((a + b, True) for a, b in itertools.pairwise(parts))
    return words


def _with_aliases(word: str) -> list[tuple[str, bool]]:
    long_form = ALIASES.get(word)
    return [(word, True), *((alias, False) for alias in long_form.split())] if long_form else [(word, True)]


@dataclass(frozen=True)
class WeighedQuery:
    """A query's terms as (term, its number if some document holds it, its idf-weighted share)."""

    terms: list[tuple[str, int | None, float]]

    @property
    def total(self) -> float:
        return sum(share for _, _, share in self.terms)

    def share_of(self, terms: set[str]) -> float:
        """The share of the query that these of its terms hold."""
        return (
            sum(share for term, _, share in self.terms if term in terms) / self.total if self.total else 0.0
        )


@dataclass(frozen=True)
class LexicalDocument:
    doc_id: str
    kind: str
    title: str
    headings: str
    body: str
    name: str = ""  # the file's name: a runbook's alert name when its title spells the alert out

    def tokens(self) -> list[str]:
        title = tokenize(self.title)
        named = set(title)
        extra = [token for token in tokenize(self.name) if token not in named]
        return (title + extra) * TITLE_WEIGHT + tokenize(self.headings) * HEADING_WEIGHT + tokenize(self.body)


class LexicalIndex:
    """Document-level BM25 (Lucene's variant, k1 1.5, b 0.75), kept as term counts per document so that adding
    or removing a document touches only that document; `scores` gives one score per document, `doc_ids` order.

    Saved as one `.npz` file (replaced atomically) next to the vectors, with `state`: the store's change
    marker it matches, so a new process loads it instead of re-reading and re-tokenising every document.
    """

    def __init__(self) -> None:
        self.doc_ids: list[str] = []
        self.state = ""
        self._row: dict[str, int] = {}
        self._kinds = np.empty(0, dtype=object)
        self._vocab: dict[str, int] = {}
        self._terms: list[np.ndarray] = []  # per document: its distinct term ids
        self._counts: list[np.ndarray] = []  # per document: how often each occurs
        self._postings: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.doc_ids)

    def update(self, documents: Sequence[LexicalDocument], removed: Iterable[str] = ()) -> None:
        """Add or replace `documents`, drop the `removed` ids."""
        gone = set(removed) | {doc.doc_id for doc in documents}
        keep = [row for row, doc_id in enumerate(self.doc_ids) if doc_id not in gone]
        kinds = [str(self._kinds[row]) for row in keep]
        self.doc_ids = [self.doc_ids[row] for row in keep]
        self._terms = [self._terms[row] for row in keep]
        self._counts = [self._counts[row] for row in keep]
        for doc in documents:
            terms, counts = np.unique(self._ids(doc.tokens()), return_counts=True)
            self.doc_ids.append(doc.doc_id)
            kinds.append(doc.kind)
            self._terms.append(terms.astype(np.int32))
            self._counts.append(counts.astype(np.int32))
        self._kinds = np.array(kinds, dtype=object)
        self._row = {doc_id: row for row, doc_id in enumerate(self.doc_ids)}
        self._postings = None

    def scores(self, query: str, kind: str | None = None) -> np.ndarray:
        scores = np.zeros(len(self.doc_ids), dtype=np.float32)
        known = [
            (self._vocab[term], weight) for term, weight in query_terms(query).items() if term in self._vocab
        ]
        if not known or not self.doc_ids:
            return scores
        pointers, rows, weights = self._weights()
        for term, weight in known:
            start, end = pointers[term], pointers[term + 1]
            np.add.at(scores, rows[start:end], weight * weights[start:end])
        if kind is not None:
            scores[self._kinds != kind] = 0.0
        return scores

    def knows(self, term: str) -> bool:
        """Whether some document holds this (stemmed) term."""
        number = self._vocab.get(term)
        if number is None or not self.doc_ids:
            return False
        pointers = self._weights()[0]
        return bool(pointers[number + 1] > pointers[number])

    def weigh(self, query: str) -> WeighedQuery:
        """The query's terms, each with its idf-weighted share (a word no document has counts as twice the
        rarest) and its number where some document holds it: what `coverage` and the foreign share read."""
        terms = query_terms(query)
        if not terms or not self.doc_ids:
            return WeighedQuery([])
        pointers = self._weights()[0]
        documents = len(self.doc_ids)
        weighed: list[tuple[str, int | None, float]] = []
        for term, weight in terms.items():
            number = self._vocab.get(term)
            frequency = 0 if number is None else int(pointers[number + 1] - pointers[number])
            share = weight * float(np.log1p((documents - frequency + 0.5) / (frequency + 0.5)))
            if not frequency:
                share *= UNKNOWN_WEIGHT
            weighed.append((term, number if frequency else None, share))
        return WeighedQuery(weighed)

    def coverage(self, query: WeighedQuery, doc_ids: Iterable[str]) -> dict[str, float]:
        """How much of the query each document holds, from 0 to 1: the idf-weighted share of the query's terms
        found in it. A word no document has counts as the rarest, so a question about a system the knowledge
        base never mentions covers little of any document, however many common words it shares; a question
        of a few common words (`MIN_INFORMATION`) is covered by none."""
        wanted = list(doc_ids)
        if not query.total:
            return dict.fromkeys(wanted, 0.0)
        known = [number for _, number, _ in query.terms if number is not None]
        shares = [share for _, number, share in query.terms if number is not None]
        result: dict[str, float] = {}
        documents = len(self.doc_ids)
        whole = max(query.total, MIN_INFORMATION * float(np.log1p((documents - 0.5) / 1.5)))
        for doc_id in wanted:
            row = self._row.get(doc_id)
            held = np.isin(known, self._terms[row]) if row is not None and known else np.zeros(0, dtype=bool)
            result[doc_id] = float(np.dot(held, shares[: len(held)])) / whole if len(held) else 0.0
        return result

    def kind_of(self, doc_id: str) -> str | None:
        row = self._row.get(doc_id)
        return None if row is None else str(self._kinds[row])

    def save(self, path: Path, extra: dict[str, object]) -> None:
        """Write the index (and `extra`, any JSON) to `path` atomically: a reader sees the old file or the new
        one, never a mix."""
        path.parent.mkdir(parents=True, exist_ok=True)
        lengths = np.array([len(terms) for terms in self._terms], dtype=np.int64)
        header = {
            "version": _FORMAT,
            "state": self.state,
            "doc_ids": self.doc_ids,
            "kinds": list(self._kinds),
            "extra": extra,
        }
        vocabulary = sorted(self._vocab, key=self._vocab.__getitem__)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            np.savez(
                handle,
                header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
                vocabulary=np.frombuffer("\n".join(vocabulary).encode(), dtype=np.uint8),
                lengths=lengths,
                terms=np.concatenate([np.empty(0, np.int32), *self._terms]),
                counts=np.concatenate([np.empty(0, np.int32), *self._counts]),
            )
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> tuple[LexicalIndex, dict[str, object]] | None:
        """The index saved at `path` and its `extra`, or None when there is none or it cannot be read."""
        try:
            with np.load(path) as data:
                header = json.loads(data["header"].tobytes())
                if header.get("version") != _FORMAT:
                    return None
                words = data["vocabulary"].tobytes().decode()
                bounds = np.cumsum(data["lengths"])[:-1]
                terms, counts = np.split(data["terms"], bounds), np.split(data["counts"], bounds)
        except (OSError, ValueError, KeyError, json.JSONDecodeError):
            return None
        index = cls()
        index.state = str(header["state"])
        index.doc_ids = [str(doc_id) for doc_id in header["doc_ids"]]
        index._row = {doc_id: row for row, doc_id in enumerate(index.doc_ids)}
        index._kinds = np.array(header["kinds"], dtype=object)
        index._vocab = {word: number for number, word in enumerate(words.split("\n"))} if words else {}
        index._terms, index._counts = (list(terms), list(counts)) if index.doc_ids else ([], [])
        return index, dict(header.get("extra") or {})

    def _ids(self, tokens: list[str]) -> np.ndarray:
        vocab = self._vocab
        return np.array([vocab.setdefault(token, len(vocab)) for token in tokens], dtype=np.int32)

    def _weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per term: the documents it occurs in and its BM25 weight in each (a term-major sparse matrix)."""
        if self._postings is None:
            self._postings = _postings(self._terms, self._counts, len(self._vocab))
        return self._postings


def _postings(
    terms: list[np.ndarray], counts: list[np.ndarray], vocabulary: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lengths = np.array([int(c.sum()) for c in counts], dtype=np.float32)
    flat_terms = np.concatenate([np.empty(0, np.int32), *terms])
    flat_counts = np.concatenate([np.empty(0, np.int32), *counts]).astype(np.float32)
    rows = np.repeat(np.arange(len(terms), dtype=np.int32), [len(t) for t in terms])
    frequency = np.bincount(flat_terms, minlength=vocabulary).astype(np.float32)
    idf = np.log1p((len(terms) - frequency + 0.5) / (frequency + 0.5))
    average = max(float(lengths.mean()), 1e-9) if len(lengths) else 1.0
    norm = K1 * ((1 - B) + B * lengths[rows] / average)
    weights = (idf[flat_terms] * flat_counts / (norm + flat_counts)).astype(np.float32)
    order = np.argsort(flat_terms, kind="stable")
    pointers = np.concatenate([[0], np.cumsum(np.bincount(flat_terms, minlength=vocabulary))])
    return pointers, rows[order], weights[order]
