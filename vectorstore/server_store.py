"""Index generations on a Chroma server, shared by every app process that points at it.

Everything lives on the server, so replicas on several machines see one index: a collection per
generation (`answers__gen-<ns>`) and a small `bot_meta` collection (see server_meta.py) holding
the pointer to the live generation, each generation's manifest and catalog, and the ingest lease
(see server_lock.py). A small update is a delta generation (delta.py): a new collection holding
only the changed chunks, with a delta record naming the base and the base ids it hides, read as
base + delta as in a local store; a large one (past `delta_share` of the base, or a rebuild) is
a full generation: a copy of the base's records with their stored embeddings (nothing is embedded
again), the live delta folded in, then the changes. The pointer is switched only when the new
generation is complete, and generations older than the one before are deleted (never the base
of a kept delta).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import threading
import time
from typing import Any

from langchain_core.documents import Document

from vectorstore.breaker import BreakerOpen, CircuitBreaker
from vectorstore.delta import (
    Delta,
    apply_difference,
    catalog_difference,
    delta_from_dict,
    delta_json,
    kept_with_bases,
)
from vectorstore.errors import IndexMissingError, StoreUnavailableError
from vectorstore.manifest import Manifest
from vectorstore.projection import DenseProjection
from vectorstore.server_lock import TTL_SECONDS, Lease
from vectorstore.server_meta import META, MetaRecords
from vectorstore.store import LEGACY_PARTS, PARTS, collection_documents, record_pages

log = logging.getLogger(__name__)

_GEN_PREFIX = "gen-"
_UNSET = object()
CONNECT_TIMEOUT = 2.0  # seconds to open a connection to the server
TIMEOUT = 5.0  # seconds to wait for each read or write of a request
COOLDOWN = 10.0  # seconds the breaker refuses calls after FAILURES timeouts in a row
FAILURES = 3


def _timed_out(err: BaseException) -> bool:
    import httpx

    return isinstance(err, httpx.TimeoutException)


def _unreachable(err: BaseException) -> bool:
    import httpx

    if isinstance(err, httpx.TransportError):  # refused, reset, timed out, cut off mid-reply
        return True
    # chromadb turns a refused connection while creating the client into this ValueError
    return isinstance(err, ValueError) and "Could not connect to a Chroma server" in str(err)


class _Guarded:
    """A Chroma collection whose calls raise StoreUnavailableError when the server is gone."""

    def __init__(self, target: Any, reachable) -> None:
        self._target = target
        self._reachable = reachable

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        @functools.wraps(attr)
        def call(*args, **kwargs):
            with self._reachable():
                return attr(*args, **kwargs)

        return call


class ChromaServerStore:
    """Generations of the answer collection on a Chroma server, switched by a pointer record."""

    pointer_ttl = 1.0  # seconds a reader may keep using the live generation it looked up

    def __init__(
        self,
        host: str,
        port: int,
        collection: str,
        *,
        lease_ttl: float = TTL_SECONDS,
        connect_timeout: float = CONNECT_TIMEOUT,
        timeout: float = TIMEOUT,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        if connect_timeout <= 0 or timeout <= 0:
            raise ValueError("timeouts must be positive numbers of seconds")
        self.host = host
        self.port = int(port)
        self.collection = collection
        self.connect_timeout = float(connect_timeout)
        self.timeout = float(timeout)
        self.breaker = breaker or CircuitBreaker(FAILURES, COOLDOWN)
        self._local = threading.local()  # per thread: nesting depth of _reachable, timed out?
        self._connecting = threading.Lock()
        self._http = None  # kept only once created: a server that was down is retried next call
        self._batch: int | None = None
        self.hnsw: dict = {}  # HNSW settings of collections created from now on (besides space)
        self._mutex = threading.Lock()  # one sync per store object at a time
        self._base: object = _UNSET  # the live generation when the current sync began
        self._records = MetaRecords(self._meta, collection, self.describe())
        self._lease = Lease(self._meta, f"{collection}/lock", ttl=lease_ttl)

    def describe(self) -> str:
        """Where the index lives, for messages."""
        return f"http://{self.host}:{self.port}"

    # ----- connection ----------------------------------------------------------------------
    @contextlib.contextmanager
    def _reachable(self):
        """Every server call runs in this: the breaker is asked first, and 'cannot connect' and
        timeout errors from chromadb/httpx become one clear StoreUnavailableError."""
        local = self._local
        outer = not getattr(local, "depth", 0)
        if outer:  # nested calls (a lock around a read) count once, as the outermost call
            try:
                self.breaker.before()
            except BreakerOpen as err:
                raise StoreUnavailableError(
                    f"the Chroma server at {self.describe()} timed out {self.breaker.failures} "
                    f"times in a row: it is not asked again for {err.retry_in:.0f} s "
                    "(BOT_CHROMA_COOLDOWN)"
                ) from None
            local.timed_out = False
        local.depth = getattr(local, "depth", 0) + 1
        try:
            yield
        except Exception as err:
            if _timed_out(err):
                local.timed_out = True
                raise StoreUnavailableError(
                    f"the Chroma server at {self.describe()} did not answer within "
                    f"{self.timeout:g} s (BOT_CHROMA_TIMEOUT): it may be stopped or overloaded; "
                    "check it, or raise BOT_CHROMA_TIMEOUT for a slow one"
                ) from err
            if _unreachable(err):
                raise StoreUnavailableError(
                    f"the Chroma server at {self.describe()} cannot be reached: start it "
                    f"(`chroma run --path DIR --host {self.host} --port {self.port}`) "
                    "or unset CHROMA_HOST"
                ) from err
            raise
        finally:
            local.depth -= 1
            if outer:
                # A refused connection fails fast by itself: only a timeout counts against it.
                (self.breaker.failure if local.timed_out else self.breaker.success)()

    def _client(self):
        with self._connecting:
            if self._http is None:
                self._http = self._connect()
            return self._http

    def _connect(self):
        """A chromadb HttpClient whose every request has the connect and read/write timeouts."""
        import httpx

        # chromadb's client talks to the server while it is built, with no timeout: build it in
        # a thread and give up waiting after the timeouts (the thread ends with the server).
        built: dict = {}

        def build() -> None:
            import chromadb
            from chromadb.config import Settings

            try:
                built["client"] = chromadb.HttpClient(
                    host=self.host, port=self.port, settings=Settings(anonymized_telemetry=False)
                )
            except Exception as err:
                built["error"] = err

        thread = threading.Thread(target=build, name="chroma-connect", daemon=True)
        thread.start()
        thread.join(self.connect_timeout + self.timeout)
        if thread.is_alive():
            raise httpx.ReadTimeout(f"no answer from {self.describe()} while connecting")
        if "error" in built:
            raise built["error"]
        client = built["client"]
        session = getattr(getattr(client, "_server", None), "_session", None)
        if not isinstance(session, httpx.Client):  # chromadb's internals moved: say so loudly
            raise RuntimeError("cannot set timeouts on chromadb's HTTP client (chromadb changed)")
        session.timeout = httpx.Timeout(
            self.timeout, connect=self.connect_timeout, pool=self.timeout
        )
        return client

    def _meta(self, create: bool):
        """The bot_meta collection; None when it does not exist and create is False."""
        from chromadb.errors import NotFoundError

        if create:
            return self._client().get_or_create_collection(META, embedding_function=None)
        try:
            return self._client().get_collection(META)
        except NotFoundError:
            return None

    def _name(self, gen: str, part: str = "") -> str:
        return f"{self.collection}__{gen}" + (f"__{part}" if part else "")

    # ----- generations -------------------------------------------------------------------
    def current_generation(self) -> str | None:
        """The generation the pointer record names, if any."""
        with self._reachable():
            return self._records.pointer()

    @contextlib.contextmanager
    def lock(self):
        """One writer at a time: waits for another ingest's lease, but writes nothing itself."""
        with self._mutex:
            with self._reachable():
                # The lease is taken only in begin_generation, so a sync that changes nothing
                # sends no write at all; _check_base catches a sync that started meanwhile.
                self._lease.wait_until_free()
                self._base = self._records.pointer()
            try:
                yield
            finally:
                self._base = _UNSET
                with self._reachable():
                    self._lease.release()

    def begin_generation(self, copy_from: str | None) -> str:
        """A new generation collection: a copy of `copy_from` (with its embeddings), or empty."""
        name = f"{_GEN_PREFIX}{time.time_ns()}"
        with self._reachable():
            self._lease.acquire()
            try:
                self._check_base()
                for part in PARTS:
                    target = self._client().create_collection(
                        self._name(name, part),
                        embedding_function=None,
                        configuration={"hnsw": {"space": "cosine", **self.hnsw}},
                    )
                    if copy_from:
                        source = self._client().get_collection(self._name(copy_from, part))
                        self._copy(source, target)
            except BaseException:
                self._drop(name)
                self._lease.release()
                raise
        return name

    def _copy(self, source, target) -> None:
        # Offset paging is stable: nobody writes the source, it is a live or older generation.
        for ids, documents, metadatas, embeddings in record_pages(source, self.max_batch()):
            if ids:
                target.add(ids=ids, embeddings=embeddings, documents=documents, metadatas=metadatas)

    def _check_base(self) -> None:
        if self._base is _UNSET:  # used without lock(): take the live generation as the base
            self._base = self._records.pointer()
        if self._records.pointer() != self._base:
            raise StoreUnavailableError(
                f"another ingest changed the index on the Chroma server at {self.describe()} "
                "while this one ran; nothing was switched: run the ingest again"
            )

    def commit_generation(self, gen: str) -> None:
        """Point at `gen`, then drop generations older than the one before."""
        with self._reachable():
            self._lease.check()
            self._check_base()
            previous = self._records.pointer()
            self._records.set_pointer(gen, previous)
            self._base = gen
        # The switch is done: a failed clean-up must not make the caller abort (and so drop)
        # the live generation; the next commit prunes again and the lease expires by itself.
        try:
            with self._reachable():
                self._prune(keep={gen, previous})
                self._lease.release()
        except StoreUnavailableError as err:
            log.warning("old generations were not deleted: %s", err)

    def abort_generation(self, gen: str) -> None:
        """Throw away an unfinished generation (never the live one)."""
        with self._reachable():
            if self._records.pointer() != gen:
                self._drop(gen)
            self._lease.release()

    def _drop(self, gen: str) -> None:
        from chromadb.errors import NotFoundError

        for part in (*PARTS, *LEGACY_PARTS):
            with contextlib.suppress(NotFoundError):
                self._client().delete_collection(self._name(gen, part))
        self._records.drop(gen)

    def _prune(self, keep: set[str | None]) -> None:
        prefix = self._name(_GEN_PREFIX)
        gens = {
            c.name.removeprefix(self._name("")).split("__")[0]
            for c in self._client().list_collections()
            if c.name.startswith(prefix)
        }
        keep = kept_with_bases(keep, self.read_delta)  # a kept delta's base stays
        for old in sorted((gens | self._records.generations()) - keep):
            self._drop(old)  # includes unfinished ones left by a killed ingest

    # ----- manifest and catalog records ------------------------------------------------------
    def read_manifest(self, gen: str) -> Manifest:
        """The manifest of a generation."""
        with self._reachable():
            return self._records.read_manifest(gen)

    def write_manifest(self, gen: str, manifest: Manifest) -> None:
        """Write a generation's manifest."""
        with self._reachable():
            self._records.write_manifest(gen, manifest)

    def read_catalog(self, gen: str) -> dict:
        """Which chunk ids came from which file (and that file's digest)."""
        with self._reachable():
            data = self._records.read_catalog(gen)
        if "base" not in data:
            return data
        return apply_difference(self.read_catalog(data["base"])["files"], data)

    def write_catalog(self, gen: str, catalog: dict) -> None:
        """Write a generation's catalog (in parts: it can be megabytes); a delta's holds only
        the files whose entries differ from its base's (written after its delta record)."""
        delta = self.read_delta(gen)
        if delta is not None:
            base = self.read_catalog(delta.base)["files"]
            catalog = catalog_difference(delta.base, base, catalog["files"])
        with self._reachable():
            self._records.write_catalog(gen, catalog)

    # ----- deltas ------------------------------------------------------------------------
    def supports_deltas(self) -> bool:
        """True: a small update is a delta generation over the live one's base, as in a local
        store (delta.py): a new collection with only the changed chunks and a delta record, no
        copy of the base's collection on the server; its BM25 files are published beside the
        base's (Index.lexical_folder)."""
        return True

    def read_delta(self, gen: str) -> Delta | None:
        """The delta record of a generation, or None for a full generation."""
        with self._reachable():
            data = self._records.read_json(gen, "delta")
        return None if data is None else delta_from_dict(data)

    def write_delta(self, gen: str, delta: Delta) -> None:
        """Mark a generation as a delta over `delta.base`."""
        with self._reachable():
            self._records.write_json(gen, "delta", json.loads(delta_json(delta)))

    def write_projection(self, gen: str, projection: DenseProjection) -> None:
        """Store the projection a generation's vectors were made with on the server too, so a
        replica without the shared data folder can search them."""
        with self._reachable():
            self._records.write_json(gen, "projection", projection.to_dict())

    def read_projection(self, gen: str) -> DenseProjection | None:
        """The projection stored with a generation, or None."""
        with self._reachable():
            data = self._records.read_json(gen, "projection")
        return None if data is None else DenseProjection.from_dict(data)

    def generation_folder(self, gen: str) -> None:
        """None: a server's generations have no local folder (the index publishes their BM25
        files in the shared data folder instead, see Index.lexical_folder)."""
        return None

    # ----- Chroma ------------------------------------------------------------------------
    def max_batch(self) -> int:
        """The most items one Chroma call takes (the server's limit, at most 5,000)."""
        if self._batch is None:
            with self._reachable():
                self._batch = min(5000, self._client().get_max_batch_size())
        return self._batch

    def open_collection(self, gen: str, part: str = ""):
        """The raw Chroma collection of a generation: its chunks, or with part="sentences" their
        sentences (calls raise StoreUnavailableError)."""
        from chromadb.errors import NotFoundError

        with self._reachable():
            try:
                collection = self._client().get_collection(self._name(gen, part))
            except NotFoundError:
                raise IndexMissingError(
                    f"generation {gen} is gone from {self.describe()}: run the command again"
                ) from None
        return _Guarded(collection, self._reachable)

    def langchain_store(self, gen: str, embedder):
        """A langchain-chroma vector store over a generation's collection (never creates it)."""
        from langchain_chroma import Chroma

        self.open_collection(gen)
        with self._reachable():
            store = Chroma(
                client=self._client(),
                collection_name=self._name(gen),
                embedding_function=embedder,
                create_collection_if_not_exists=False,
            )
        # langchain-chroma's searches then go through the breaker and clear errors too.
        store._chroma_collection = _Guarded(store._chroma_collection, self._reachable)
        return store

    def all_documents(self, gen: str) -> list[Document]:
        """Every stored chunk, paged through Chroma, sorted by id."""
        return collection_documents(self.open_collection(gen), self.max_batch())

    def record_pages(self, gen: str, part: str = ""):
        """Pages of (ids, documents, metadatas, embeddings) of a generation's records."""
        return record_pages(self.open_collection(gen, part), self.max_batch())
