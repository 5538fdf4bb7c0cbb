"""The embedder Debrief used before ONNX: sentence-transformers on torch. Only bench/embedders.py imports it, to
compare side by side; it needs the `reference` extra and the CPU torch wheel (`make bench-reference`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any


class TorchEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, batches of 8, as `agent.knowledge` did before."""

    name = "minilm-l6-v2"  # the same vector space as OnnxEmbedder("fp32")

    def __init__(self) -> None:
        self._model: Any = None

    def load(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        from agent.knowledge.model_files import package_dir, verified_files

        verified_files()
        self._model = SentenceTransformer(str(package_dir()), device="cpu")

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        if self._model is None:
            self.load()
        vectors = self._model.encode(
            list(texts), batch_size=8, normalize_embeddings=True, show_progress_bar=False
        )
        return [[float(x) for x in row] for row in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
