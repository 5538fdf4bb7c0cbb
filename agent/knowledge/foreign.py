"""Foreign words: the words of a question that name something the knowledge base has never heard of.

A question about a system the knowledge base does not cover ("mongodb primary keeps re-electing") shares its
symptom words with runbooks it does cover (etcd leader elections), so similarity and coverage let it through. Its
tell is a word that no document holds and that is not everyday English either: a product's name. Everyday words are
pyspellchecker's English word list (160k words with their inflections, from subtitles), the whole words of the
local embedder's vocabulary (BERT's 30k, which knows "https", "api" and "sql") and the operations vocabulary
(`vocabulary.py`: "cert", "oom", "pvc"), and "runbook" or "postmortem"; a word one slip of the keyboard away from a word the knowledge base
holds ("promethues") is a typo, not a name. System names that are English words ("jenkins", "envoy", "spark")
are not caught: telling those apart takes knowing the world, or an LLM.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

import numpy as np
from spellchecker import SpellChecker

from agent.errors import KnowledgeError
from agent.knowledge.lexical import CAMEL, TOKEN, stem_word, stem_words
from agent.knowledge.model_files import SHA256, verified_files
from agent.knowledge.vocabulary import ALIASES

MIN_LETTERS = 3  # shorter pieces ("ha", "tx") are abbreviations, not names
_WIDTH = 24  # bytes per word in WordList; the few longer words go in a set
MIN_TYPO_LETTERS = 6  # below this, one edit away from a known word is most words ("redis" -> "reds")
# Negations typed without their apostrophe ("cant deploy"): everyday words the vocabulary holds only in parts.
_NEGATIONS = frozenset(
    stem + "nt"
    for stem in ("ca", "do", "wo", "does", "is", "are", "was", "were", "did", "could", "would", "has")
)

# Words for the knowledge itself ("is there a runbook for payment timeouts?"): asked about, never a system's name.
_ABOUT_KNOWLEDGE = ("runbook", "runbooks", "postmortem", "postmortems", "playbook", "playbooks", "oncall")


def foreign_terms(query: str, known: Callable[[str], bool]) -> set[str]:
    """Stems of the query's words that `known` (does a document hold this stem?) rejects, that are not everyday
    English and that are not a typo of a known word."""
    everyday = everyday_words()
    found: set[str] = set()
    for word in _words(query):
        stem = stem_word(word)
        if known(stem) or _is_everyday(word, everyday) or _is_typo(word, known):
            continue
        found.add(stem)
    return found


class WordList:
    """A sorted array of fixed-width byte strings: 4 MB for the 162k everyday words where a set of str takes 17."""

    def __init__(self, words: Iterable[str]) -> None:
        encoded = {word.encode() for word in words}
        self._words = np.array(sorted(w for w in encoded if len(w) <= _WIDTH), dtype=f"S{_WIDTH}")
        self._long = frozenset(w for w in encoded if len(w) > _WIDTH)

    def __contains__(self, word: str) -> bool:
        key = word.encode()
        if len(key) > _WIDTH:
            return key in self._long
        at = int(np.searchsorted(self._words, key))
        return at < len(self._words) and self._words[at] == key

    def __len__(self) -> int:
        return len(self._words) + len(self._long)


@lru_cache(maxsize=1)
def everyday_words() -> WordList:
    """The English word list, the embedder's whole words, the operations vocabulary and the words for the
    knowledge itself (read once: 0.4 s)."""
    words = set(SpellChecker(language="en", distance=1).word_frequency.dictionary)
    words.update(_ABOUT_KNOWLEDGE, ALIASES, *(long_form.split() for long_form in ALIASES.values()))
    try:  # the tokenizer alone is checked: hashing the weights too would double the time
        path = verified_files(expected={"tokenizer.json": SHA256["tokenizer.json"]}).tokenizer
        vocab = json.loads(path.read_text(encoding="utf-8"))["model"]["vocab"]
    except KnowledgeError:
        vocab = {}  # the local model is not installed: the other two lists still serve
    words.update(word for word in vocab if word.isalpha() and word.islower())
    return WordList(words)


def _words(query: str) -> Iterator[str]:
    """The query's words, one per hyphenated or CamelCase part, lower case, without numbers or abbreviations.
    Identifiers pasted from logs ("NoCredentialProviders") are everyday words that way; a name typed in CamelCase
    ("MongoDB") is missed with them."""
    for token in TOKEN.findall(query):
        for piece in token.split("-"):
            for part in [piece] if piece.isupper() else CAMEL.split(piece):
                if len(part) >= MIN_LETTERS and part.isalpha():
                    yield part.lower()


def _is_everyday(word: str, everyday: WordList) -> bool:
    return word in everyday or word in _NEGATIONS


def _is_typo(word: str, known: Callable[[str], bool]) -> bool:
    return len(word) >= MIN_TYPO_LETTERS and any(known(stem) for stem in stem_words(sorted(_one_edit(word))))


def _one_edit(word: str) -> set[str]:
    """Every string one deletion, swap of neighbours, replacement or insertion away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    letters = string.ascii_lowercase
    return {
        *(a + b[1:] for a, b in splits if b),
        *(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1),
        *(a + c + b[1:] for a, b in splits if b for c in letters),
        *(a + c + b for a, b in splits for c in letters),
    }
