"""Text -> vectors. Local MiniLM on ONNX Runtime by default (offline, verified, loaded once per process),
OpenAI-compatible embeddings if configured."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from agent.errors import KnowledgeError
from agent.knowledge.onnx_graph import Precision, write_model
from agent.settings import Settings
from agent.wellformed import well_formed

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

# sentence-transformers reads up to 256 word pieces of a text with this model (sentence_bert_config.json); 128
# embed twice as fast and measured as well on our queries (BENCHMARKS.md, "Embed less"): long sections are
# split at 2,000 characters anyway, and a section's first lines say what it is about.
MAX_TOKENS = 128
# Texts are sorted by length and embedded in batches of about this many tokens, so padding costs little and
# the activations of one batch stay small (attention alone is batch x 12 x tokens^2 floats).
BATCH_TOKENS = 1024
MAX_BATCH = 64


class Embedder(Protocol):
    """Embeds texts; `name` identifies the vector space (a collection is never shared between spaces)."""

    name: str

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class OnnxEmbedder:
    """all-MiniLM-L6-v2 on ONNX Runtime, on the CPU. Loads on first use, then serves the whole process.

    `precision` fp32 gives sentence-transformers' vectors (to 1e-4); int8 quantises the dense layers' weights.
    `max_tokens` caps what is read of each text; fewer tokens embed faster but see less of a long section.
    """

    def __init__(self, precision: Precision = "int8", max_tokens: int = MAX_TOKENS, threads: int = 0) -> None:
        self.precision = precision
        self.max_tokens = max_tokens
        # One vector space per model and precision: int8 vectors are close to fp32 ones, not equal.
        suffix = "" if precision == "fp32" else f"-{precision}"
        self.name = f"minilm-l6-v2{suffix}" if max_tokens == 256 else f"minilm-l6-v2{suffix}-{max_tokens}"
        self._threads = threads or min(os.cpu_count() or 1, 4)
        self._lock = threading.Lock()
        self._loaded: tuple[Tokenizer, onnxruntime.InferenceSession] | None = None

    def load(self) -> None:
        """Verify and load the model now (it is loaded on first use otherwise)."""
        self._model()

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        tokenizer, session = self._model()
        encodings = tokenizer.encode_batch([well_formed(text) for text in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        vectors = np.zeros((len(texts), 384), dtype=np.float32)
        for batch in _batches(order, [len(encodings[i].ids) for i in order]):
            width = len(encodings[batch[-1]].ids)
            ids = np.zeros((len(batch), width), dtype=np.int32)
            mask = np.zeros((len(batch), width), dtype=np.int32)
            for row, index in enumerate(batch):
                tokens = encodings[index].ids
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = 1
            with self._lock:  # one run at a time: the session's threads are the machine's cores
                (hidden,) = session.run(["tokens"], {"input_ids": ids, "attention_mask": mask})
            vectors[batch] = _mean_pool(hidden, mask)
        if len(texts) > 1:
            _release_freed_memory()
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def _model(self) -> tuple[Tokenizer, onnxruntime.InferenceSession]:
        with self._lock:
            if self._loaded is None:
                self._loaded = _load(self.precision, self.max_tokens, self._threads)
            return self._loaded


def _load(
    precision: Precision, max_tokens: int, threads: int
) -> tuple[Tokenizer, onnxruntime.InferenceSession]:
    import onnxruntime
    from tokenizers import Tokenizer

    from agent.knowledge.model_files import read_safetensors, verified_files

    files = verified_files()
    tokenizer = Tokenizer.from_file(str(files.tokenizer))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_tokens)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # No arena: it keeps a batch's activations (~190 MB at 32 x 256 tokens) for the life of the process.
    options.enable_cpu_mem_arena = False
    # Idle threads sleep instead of spinning: the bot shares its cores with Chroma and the chat backend.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Loaded from files, not from bytes: given bytes, onnxruntime keeps a copy (~90 MB) for the session's life,
    # and the weights are streamed to disk, so building the model holds no second copy of them.
    with tempfile.TemporaryDirectory(prefix="debrief-model-") as folder:
        path = write_model(read_safetensors(files.weights), precision, Path(folder))
        try:
            session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise KnowledgeError(f"cannot load the local embedder on ONNX Runtime: {exc}") from exc
    _release_freed_memory()
    return tokenizer, session


def _batches(order: list[int], lengths: list[int]) -> list[list[int]]:
    """Consecutive runs of the length-sorted texts, each padded to its longest within BATCH_TOKENS."""
    batches: list[list[int]] = []
    current: list[int] = []
    for index, length in zip(order, lengths, strict=True):
        if (current and (len(current) + 1) * length > BATCH_TOKENS) or len(current) >= MAX_BATCH:
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' Pooling (mean over real tokens) and Normalize (unit length) modules."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(summed, axis=1, keepdims=True)
    pooled: np.ndarray = summed / np.maximum(norms, 1e-12)
    return pooled


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
    """Hand freed buffers (the serialised graph, a batch's activations) back to the OS; glibc keeps them."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


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
        return self._client.embed_documents([well_formed(text) for text in texts]) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._client.embed_query(well_formed(text))


def make_embedder(settings: Settings) -> Embedder:
    if settings.embeddings == "openai":
        return OpenAIEmbedder(settings)
    return OnnxEmbedder(settings.embeddings_precision)
