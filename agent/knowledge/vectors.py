"""The Chroma side: an embedded `PersistentClient` by default, `HttpClient` when CHROMA_HOST is set."""

from __future__ import annotations

import fcntl
import logging
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from agent.errors import KnowledgeError
from agent.settings import Settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection


# chromadb shares one "system" per store path between the clients of a process, and making or releasing one from
# two threads at once breaks it ("'RustBindingsAPI' object has no attribute 'bindings'"): the bot opens the store
# from its warm-up, the assistant and the postmortem threads.
_OPENING = threading.Lock()
log = logging.getLogger(__name__)
# How many candidates HNSW weighs per query. Chroma's default, 100, is below the 120 nearest pieces a search asks
# for (`search.DENSE_CANDIDATES` x 2): the answer was then approximate and differed from one process to the next
# (3 different sets in 5 runs of one query). At 500 it equals exact search on the benchmark corpus, every run.
EF_SEARCH = 500


# Opening a fresh embedded store creates its tables: two processes doing it at once (three `debrief ingest` on a
# new data dir) fail with "table collections already exists" or "database is locked". A lock file in the data dir
# makes them take turns; a process waits this long for another's open before it says so.
OPEN_LOCK_NAME = "chroma.lock"
OPEN_LOCK_WAIT_S = 120.0
# What chromadb's message says -> what is wrong with the store and what to do about it.
_FULL = "cannot be written: the disk is full; free space on it and run the command again"
# Less free space than this where the store lies: a write that failed without saying why failed for want of it.
LOW_DISK_BYTES = 16 * 1024 * 1024
_DAMAGED = "is damaged: move {where} aside, then `debrief ingest` rebuilds it from the Markdown"
_CAUSES = (
    ("readonly database", "is read-only here: make {where} writable for this user, or run as its owner"),
    ("disk is full", _FULL),
    ("file is not a database", _DAMAGED),
    ("malformed", _DAMAGED),
    ("database is locked", "is busy with another process's write; run the command again when it is done"),
)


def open_client(settings: Settings) -> ClientAPI:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    where = store_location(settings)
    try:
        with store_errors(where):
            if settings.chroma_host:
                return chromadb.HttpClient(
                    host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
                )
            path = settings.data_dir / "chroma"
            path.mkdir(parents=True, exist_ok=True)
            with _OPENING, _taking_turns(settings.data_dir / OPEN_LOCK_NAME, where):
                return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except (OSError, ValueError) as exc:
        raise KnowledgeError(f"cannot open the Chroma store at {where}: {exc}") from exc


def store_location(settings: Settings) -> str:
    """The embedded store's folder, or the Chroma server's address: what an error names."""
    if settings.chroma_host:
        return f"{settings.chroma_host}:{settings.chroma_port}"
    return str(settings.data_dir / "chroma")


def store_of(collection: Collection) -> str:
    """Where `collection` lives, as `store_location` says it (read back from its client's settings)."""
    return _client_location(getattr(collection, "_client", None))


def store_error(exc: Exception, where: str) -> Exception:
    """chromadb's error as one line naming the store and what to do; anything else is returned as it is."""
    from chromadb.errors import ChromaError

    if isinstance(exc, KnowledgeError) or not isinstance(exc, ChromaError):
        return exc
    detail = " ".join(str(exc).split()) or type(exc).__name__
    for words, explanation in _CAUSES:
        if words in detail.lower():
            return KnowledgeError(f"the Chroma store at {where} {explanation.format(where=where)} ({detail})")
    if _nearly_full(where):  # Chroma's own writes say only "Error in compaction: Failed to apply logs ..."
        return KnowledgeError(f"the Chroma store at {where} {_FULL} ({detail})")
    return KnowledgeError(f"the Chroma store at {where} failed: {detail}")


def _nearly_full(where: str) -> bool:
    try:
        return shutil.disk_usage(where).free < LOW_DISK_BYTES
    except OSError:  # a server's address, or a folder that is gone
        return False


@contextmanager
def store_errors(where: str) -> Iterator[None]:
    """chromadb's errors inside the block become `store_error`'s one line."""
    try:
        yield
    except Exception as exc:
        error = store_error(exc, where)
        if error is exc:
            raise
        raise error from exc


@contextmanager
def _taking_turns(lock_path: Path, where: str) -> Iterator[None]:
    """An exclusive lock on `lock_path` across processes, released when the block ends (or the process does).
    Where the lock file cannot be made (a read-only data dir), the open goes ahead and says what is wrong."""
    try:
        handle = lock_path.open("a+b")
    except OSError:
        yield
        return
    with handle:
        waited_since: float | None = None
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if waited_since is None:
                    waited_since = time.monotonic()
                    log.warning("Waiting for another process to finish opening the Chroma store at %s", where)
                elif time.monotonic() - waited_since > OPEN_LOCK_WAIT_S:
                    raise KnowledgeError(
                        f"another process has been opening the Chroma store at {where} for "
                        f"{OPEN_LOCK_WAIT_S:g} s (it holds {lock_path}); stop it or run the command again"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def collection_name(embedder_name: str, prefix: str = "debrief") -> str:
    """One collection per vector space, so switching embedders never mixes dimensions."""
    return f"{prefix}-" + re.sub(r"[^a-zA-Z0-9._-]", "-", embedder_name).strip("-.")


def open_collection(client: ClientAPI, embedder_name: str, prefix: str = "debrief") -> Collection:
    """The embedder's collection, made or brought up to EF_SEARCH."""
    name = collection_name(embedder_name, prefix)
    for attempt in (1, 2):
        try:
            collection = client.get_or_create_collection(
                name,
                configuration={"hnsw": {"space": "cosine", "ef_search": EF_SEARCH}},
                embedding_function=None,
            )
            break
        except Exception as exc:  # chromadb's errors (server down, bad name) share no useful base class
            if attempt == 1 and _raced(exc):
                continue  # another process made it at the same moment: it is there now
            error = store_error(exc, _client_location(client))
            if error is exc:  # not chromadb's: a server that does not answer, ...
                raise KnowledgeError(f"cannot open the Chroma collection {name}: {exc}") from exc
            raise error from exc
    if ef_search_of(collection) < EF_SEARCH:  # a collection made before the setting
        try:
            collection.modify(configuration={"hnsw": {"ef_search": EF_SEARCH}})
        except Exception as exc:  # a server that cannot change it still serves, approximately
            log.warning("cannot raise ef_search of %s to %d: %s", collection.name, EF_SEARCH, exc)
    return collection


def ef_search_of(collection: Collection) -> int:
    hnsw = (collection.configuration or {}).get("hnsw") or {}
    return int(hnsw.get("ef_search") or 0)


def _raced(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(words in text for words in ("already exists", "unique constraint", "database is locked"))


def _client_location(client: ClientAPI | None) -> str:
    try:
        chroma = client.get_settings() if client is not None else None
    except Exception:  # not chromadb's client: nothing better to name
        chroma = None
    if chroma is None:
        return "the Chroma store"
    if chroma.chroma_server_host:
        return f"{chroma.chroma_server_host}:{chroma.chroma_server_http_port}"
    return str(chroma.persist_directory)
