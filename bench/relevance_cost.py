"""What the relevance floor's foreign words and exact nearest-neighbour search cost, side by side in one process.

    python -m bench.relevance_cost --store DIR     # DIR as kept by bench/retrieval.py --store

1. Hybrid search p50 over every question of queries.yaml and ood_queries.yaml, with the foreign-word signal and
   with it switched off, `--rounds` times; each variant runs first for half the questions (whichever runs second
   finds the query embedding cached). Also the mean time of finding a question's foreign words.
2. A pasted wall of 6,000 random words (about 60,000 characters): time of finding its foreign words.
3. Chroma's own query time (120 nearest, as a search asks) at `ef_search` 100 (Chroma's default) and 500
   (Debrief's), alternating: on a copy of the benchmark store, and on 50,000 random 384-d pieces.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import string
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

import agent.knowledge.search as search_module
from agent.knowledge.embedder import OnnxEmbedder
from agent.knowledge.foreign import foreign_terms
from agent.knowledge.lexical import spelled_out
from bench.retrieval import HERE, open_kb

NEAREST = 120
EF_SEARCH = (100, 500)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--store", type=Path, required=True, help="the store bench/retrieval.py --store keeps"
    )
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    questions = [q["query"] for name in ("queries", "ood_queries") for q in _load(name)]
    embedder = OnnxEmbedder()
    kb = open_kb(args.store / "data", embedder)
    for question in questions[:20]:
        kb.search(question)  # the model, the index and the word list loaded

    def without(query: str, known: Callable[[str], bool]) -> set[str]:
        return set()

    times: dict[str, list[float]] = {"with": [], "without": []}
    for turn in range(args.rounds):
        for i, question in enumerate(questions):
            for name in ("with", "without") if (turn + i) % 2 == 0 else ("without", "with"):
                vars(search_module)["foreign_terms"] = foreign_terms if name == "with" else without
                times[name].append(_ms(kb.search, question, kind="runbook"))
    vars(search_module)["foreign_terms"] = foreign_terms
    with_, without_ = statistics.median(times["with"]), statistics.median(times["without"])
    print(
        f"hybrid search p50, {len(questions)} questions x {args.rounds}: with foreign words {with_:.2f} ms, "
        f"without {without_:.2f} ms (x{with_ / without_:.3f})"
    )
    index = kb.catalog().index
    finding = [_ms(foreign_terms, question, index.knows) for question in questions]
    print(f"finding foreign words: {statistics.mean(finding):.3f} ms per question (mean)")

    rng = random.Random(1)
    wall = " ".join(
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(6, 12))) for _ in range(6000)
    )
    print(f"a {len(wall):,}-character wall of random words: {_ms(foreign_terms, wall, index.knows):.0f} ms")

    vectors = embedder.embed_documents([spelled_out(q) for q in questions[:200]])
    with tempfile.TemporaryDirectory() as tmp:
        stores = {}
        for ef in EF_SEARCH:
            shutil.copytree(args.store / "data" / "chroma", f"{tmp}/{ef}")
            stores[ef] = _collection(f"{tmp}/{ef}", ef)
        _compare("benchmark store", stores, vectors, args.rounds)
        points = np.random.default_rng(1).normal(size=(50_000, 384)).astype(np.float32)
        points /= np.linalg.norm(points, axis=1, keepdims=True)
        _compare(
            "50,000 random pieces",
            {ef: _random_store(f"{tmp}/r{ef}", ef, points) for ef in EF_SEARCH},
            vectors,
            args.rounds,
        )


def _load(name: str) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = yaml.safe_load((HERE / f"{name}.yaml").read_text(encoding="utf-8"))
    return loaded


def _ms(action: Callable[..., object], *args: Any, **kwargs: Any) -> float:
    started = time.perf_counter()
    action(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def _collection(path: str, ef: int) -> Any:
    import chromadb

    client = chromadb.PersistentClient(path=path)
    collection = client.get_collection(client.list_collections()[0].name)
    collection.modify(configuration={"hnsw": {"ef_search": ef}})
    return collection


def _random_store(path: str, ef: int, points: np.ndarray) -> Any:
    import chromadb

    collection = chromadb.PersistentClient(path=path).create_collection(
        "random", configuration={"hnsw": {"space": "cosine", "ef_search": ef}}
    )
    for start in range(0, len(points), 5000):
        chunk = points[start : start + 5000]
        collection.add(ids=[f"p{start + i}" for i in range(len(chunk))], embeddings=chunk.tolist())
    return collection


def _compare(label: str, stores: dict[int, Any], vectors: list[list[float]], rounds: int) -> None:
    times: dict[int, list[float]] = {ef: [] for ef in stores}
    for turn in range(rounds):
        for ef in EF_SEARCH if turn % 2 == 0 else EF_SEARCH[::-1]:
            for vector in vectors:
                times[ef].append(_ms(stores[ef].query, query_embeddings=[vector], n_results=NEAREST))
    low, high = (statistics.median(times[ef]) for ef in EF_SEARCH)
    print(
        f"Chroma query p50, {label}: ef_search {EF_SEARCH[0]} {low:.2f} ms, {EF_SEARCH[1]} {high:.2f} ms "
        f"(x{high / low:.2f})"
    )


if __name__ == "__main__":
    main()
