"""Foreign words: the words of a question that name something the knowledge base has never heard of.

A question about a system the knowledge base does not cover ("mongodb primary keeps re-electing") shares its
symptom words with runbooks it does cover (etcd leader elections), so similarity and coverage let it through. Its
tell is a word that no document holds and that is not everyday English either: a product's name. Everyday words are
pyspellchecker's English word list (160k words with their inflections, from subtitles; its data file is read,
not its spell checker), the whole words of the
local embedder's vocabulary (BERT's 30k, which knows "https", "api" and "sql") and the operations vocabulary
(`vocabulary.py`: "cert", "oom", "pvc"), and "runbook" or "postmortem"; a word one slip of the keyboard away from a word the knowledge base
holds ("promethues") is a typo, not a name. System names that are English words ("jenkins", "envoy", "spark")
are not caught: telling those apart takes knowing the world, or an LLM.
"""

from __future__ import annotations

import gzip
import re
import string
from collections.abc import Callable, Iterator
from functools import lru_cache
from importlib import resources

import numpy as np

from agent.errors import KnowledgeError
from agent.knowledge.lexical import CAMEL, TOKEN, stem_word, stem_words
from agent.knowledge.model_files import SHA256, verified_files
from agent.knowledge.vocabulary import ALIASES

MIN_LETTERS = 3  # shorter pieces ("ha", "tx") are abbreviations, not names
# In a name with a number in it (a host, node or pod: "wrk-12", "ocs-stor-3"), shorter pieces are that naming
# scheme's abbreviations; a system's own name ("redis-0", "rabbitmq-1") is longer.
MIN_LETTERS_BESIDE_NUMBER = 5
MIN_TYPO_LETTERS = 6  # below this, one edit away from a known word is most words ("redis" -> "reds")
# Typo checks per question (each stems ~600 variants): a pasted 60k-character question of nonsense took 5 s
# without a bound. A question with more unknown words than this is not about the knowledge base anyway.
MAX_TYPO_CHECKS = 24
WIDTH = 32  # bytes per word in a WordList; longer words (2 of the English list's) are never everyday
# Above this, a word is not checked as a typo: its one-edit variants take memory in the square of its length
# (a pasted 30,000-letter word took gigabytes), and no word that long is a slip of the keyboard.
MAX_TYPO_LETTERS = WIDTH
_BATCH = 8192  # words cut out of the English list at a time: a few MB of indexes, not 40 MB at once
_VOCABULARY_WORD = re.compile(rb'"([a-z]+)":\d+')  # a whole lower-case word in tokenizer.json's vocab
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
    checks = MAX_TYPO_CHECKS
    for word in dict.fromkeys(_words(query)):
        stem = stem_word(word)
        if known(stem) or _is_everyday(word, everyday):
            continue
        if checks and MIN_TYPO_LETTERS <= len(word) <= MAX_TYPO_LETTERS:
            checks -= 1
            if _is_typo(word, known):
                continue
        found.add(stem)
    return found


class WordList:
    """Words as sorted arrays of fixed-width byte strings (5 MB for 162k words), built without a Python object per
    word: a set of them took 17 MB and its building left as much again of fragmented heap (BENCHMARKS.md)."""

    def __init__(self, *sorted_words: np.ndarray) -> None:
        self._arrays = [words if _is_sorted(words) else np.sort(words) for words in sorted_words]

    def __contains__(self, word: str) -> bool:
        key = word.encode()
        if len(key) > WIDTH:
            return False
        for words in self._arrays:
            at = int(np.searchsorted(words, key))
            if at < len(words) and bytes(words[at]) == key:
                return True
        return False


@lru_cache(maxsize=1)
def everyday_words() -> WordList:
    """The English word list, the embedder's whole words, the operations vocabulary and the words for the
    knowledge itself (read once: 0.15 s)."""
    small = {
        *_ABOUT_KNOWLEDGE,
        *ALIASES,
        *(word for long_form in ALIASES.values() for word in long_form.split()),
    }
    try:  # the tokenizer alone is checked: hashing the weights too would double the time
        path = verified_files(expected={"tokenizer.json": SHA256["tokenizer.json"]}).tokenizer
        vocabulary = path.read_bytes()
        small.update(
            word.decode() for word in _VOCABULARY_WORD.findall(vocabulary, vocabulary.find(b'"vocab"'))
        )
    except KnowledgeError:
        pass  # the local model is not installed: the other lists still serve
    return WordList(_english_words(), np.array(sorted(w.encode() for w in small), dtype=f"S{WIDTH}"))


def _is_sorted(words: np.ndarray) -> bool:
    return bool(np.all(words[1:] >= words[:-1]))


def _english_words() -> np.ndarray:
    """pyspellchecker's English words (its `en.json.gz`, one `"word": count` per line, no escapes) as fixed-width
    byte strings, cut straight out of the file's bytes."""
    raw = gzip.decompress((resources.files("spellchecker") / "resources" / "en.json.gz").read_bytes())
    data = np.frombuffer(raw, dtype=np.uint8)
    quotes = np.flatnonzero(data == ord('"')).astype(np.int64)
    starts, ends = quotes[0::2] + 1, quotes[1::2]
    keep = ends - starts <= WIDTH
    starts, lengths = starts[keep], (ends - starts)[keep]
    offsets = np.arange(WIDTH, dtype=np.int64)
    letters = np.zeros((len(starts), WIDTH), dtype=np.uint8)
    for first in range(0, len(starts), _BATCH):
        rows = slice(first, first + _BATCH)
        cells = np.minimum(starts[rows, None] + offsets, len(data) - 1)
        letters[rows] = np.where(offsets < lengths[rows, None], data[cells], 0)
    return letters.view(f"S{WIDTH}").ravel()


_DIGIT = re.compile(r"\d")


def _words(query: str) -> Iterator[str]:
    """The query's words, one per hyphenated or CamelCase part, lower case, without numbers or abbreviations.
    Identifiers pasted from logs ("NoCredentialProviders") are everyday words that way; a name typed in CamelCase
    ("MongoDB") is missed with them."""
    for token in TOKEN.findall(query):
        pieces = token.split("-")
        shortest = MIN_LETTERS_BESIDE_NUMBER if any(_DIGIT.search(piece) for piece in pieces) else MIN_LETTERS
        for piece in pieces:
            for part in [piece] if piece.isupper() else CAMEL.split(piece):
                if len(part) >= shortest and part.isalpha():
                    yield part.lower()


def _is_everyday(word: str, everyday: WordList) -> bool:
    return word in everyday or word in _NEGATIONS


def _is_typo(word: str, known: Callable[[str], bool]) -> bool:
    return any(known(stem) for stem in stem_words(sorted(_one_edit(word))))


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
