"""The words BM25 sees: alert names split, status reasons and short forms bring the words runbooks use."""

from __future__ import annotations

import numpy as np

from agent.knowledge.lexical import LexicalDocument, LexicalIndex, query_terms, spelled_out, tokenize

RUNBOOKS = [
    LexicalDocument(
        "crash",
        "runbook",
        "Kube Pod Crash Looping",
        "Meaning Mitigation",
        "The pod restarts again and again.",
        "KubePodCrashLooping",
    ),
    LexicalDocument(
        "pleg",
        "runbook",
        "Kubelet Pod Lifecycle Event Generator Duration High",
        "Meaning",
        "Relisting pods is slow on the node.",
        "KubeletPlegDurationHigh",
    ),
    LexicalDocument(
        "sts", "runbook", "KubeStatefulSetReplicasMismatch", "Meaning", "Replicas do not match.", "x"
    ),
    LexicalDocument(
        "disk", "runbook", "Node disk almost full", "Meaning", "The root filesystem is full.", "y"
    ),
]


def best(query: str) -> str:
    index = LexicalIndex()
    index.update(RUNBOOKS)
    return index.doc_ids[int(np.argmax(index.scores(query)))]


def test_a_kubectl_status_reason_finds_the_runbook_named_after_the_alert() -> None:
    assert best("pods in CrashLoopBackOff") == "crash"
    assert best("Back-off restarting failed container") == "crash"


def test_an_abbreviation_in_the_alert_name_is_matched_through_the_file_name() -> None:
    assert best("PLEG is not healthy") == "pleg"


def test_short_forms_people_type_match_the_long_forms_in_alert_names() -> None:
    assert best("sts stuck at 2/3") == "sts"
    assert "statefulset" in tokenize("KubeStatefulSetReplicasMismatch")


def test_words_the_vocabulary_adds_weigh_less_than_typed_ones() -> None:
    terms = query_terms("502s from the lb")
    assert terms["502"] == 1.0  # "502s" is read as 502
    assert terms["gateway"] < 1.0 and terms["balanc"] < 1.0


def test_the_embedder_reads_the_long_forms_too() -> None:
    assert spelled_out("PLEG not healthy") == "PLEG not healthy (pod lifecycle event generator)"
    assert spelled_out("nothing to add here") == "nothing to add here"
