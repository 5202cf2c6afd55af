"""Near-duplicate detection: MinHash signatures, LSH buckets, persistent clusters.

Syndicated and wire copies of one story across outlets differ in headline, boilerplate and a
sentence here and there; their clean texts still share most 12-character shingles. Each
article gets a 64-slot one-permutation MinHash (with densification) of those shingles, computed
entirely in numpy so fingerprinting costs about as much as reading the text. LSH banding
(``BANDS`` bands of ``ROWS`` slots, stored in ``near_dup_buckets``) turns the lookup into an index
probe; each candidate is then verified against the full signature, and only pairs whose
estimated Jaccard similarity reaches the configured threshold join one cluster.

``articles.cluster_id`` is the smallest article id of the cluster (the first stored copy) or
NULL for a cluster of one; the ``news_articles`` view shows ``COALESCE(cluster_id, id)``.
Clusters only merge, they never split, so a consumer's grouping stays stable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, delete, func, or_, select, text, update

from pipeline.db.models import Article, NearDupBucket
from pipeline.load.bulk import chunk_size, insert_integers, member_of

SLOTS = 64
BANDS = 12
ROWS = 5  # BANDS * ROWS <= SLOTS; a pair is a candidate with p = 1-(1-J**5)**12: 0.89 at J=0.7, 0.99 at 0.8
SHINGLE_BYTES = 12
DEFAULT_THRESHOLD = 0.8
MAX_CANDIDATES = 64  # per article, most shared bands first: templated sites cannot make this quadratic

Signature = npt.NDArray[np.uint32]
_U64 = npt.NDArray[np.uint64]

# ASCII letters and digits stay, other ASCII bytes become spaces, UTF-8 multi-byte sequences stay.
_KEEP_ALNUM = bytes(b if (48 <= b <= 57 or 97 <= b <= 122 or b >= 128) else 32 for b in range(256))
_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xC2B2AE3D27D4EB4F)
_K3 = np.uint64(0x165667B19E3779F9)
_MASK32 = np.uint64(0xFFFFFFFF)
_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)
#: PostgreSQL advisory lock that serialises cluster and link steps of batches (:func:`take_turn`).
CLUSTER_LOCK_KEY = 0x6E6577736E640001  # "newsnd" + 1


def _mix(values: _U64) -> _U64:
    """A 64-bit finaliser (splitmix64): turns packed bytes into well-spread hashes."""
    values = values ^ (values >> np.uint64(30))
    values = values * _K1
    values = values ^ (values >> np.uint64(27))
    values = values * _K2
    return values ^ (values >> np.uint64(31))


def normalise(text: str) -> bytes:
    """Lower case, ASCII punctuation and runs of white space collapsed to one space.

    Byte-level (a translate table, then split/join) because it is 5x faster than a regex and
    fingerprinting runs on every stored article.
    """
    return b" ".join(text.lower().encode("utf-8").translate(_KEEP_ALNUM).split())


def _windows(data: bytes) -> _U64:
    """Every 8-byte window of ``data`` as a little-endian uint64 (window i starts at byte i).

    Eight aligned views (windows starting at o, o+8, o+16, ... for o in 0..7) interleaved:
    a third of the cost of copying a sliding-window view, which numpy does element by element.
    """
    count = len(data) - 7
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    padded = np.frombuffer(data + bytes(8), dtype=np.uint8)
    packed = np.empty(count, dtype=np.uint64)
    for start in range(8):
        words = (count - start + 7) // 8
        packed[start::8] = padded[start : start + 8 * words].view("<u8")
    return packed


def signature(text: str) -> Signature | None:
    """The 64-slot MinHash of ``text``'s 12-byte shingles; None when too short to compare."""
    packed = _windows(normalise(text))
    if packed.size < SHINGLE_BYTES + 1:
        return None
    offset = SHINGLE_BYTES - 8
    shingles = _mix(packed[:-offset] ^ _mix(packed[offset:] * _K3))
    # One-permutation hashing: the top 6 bits pick the slot, each slot keeps its minimum.
    minima = np.full(SLOTS, _EMPTY, dtype=np.uint64)
    np.minimum.at(minima, (shingles >> np.uint64(64 - 6)).astype(np.intp), shingles)
    present = minima != _EMPTY
    values = (minima & _MASK32).astype(np.uint32)
    if not present.all():
        # Densification: an empty slot borrows the next non-empty slot's value (circularly),
        # salted by the distance, so short texts still compare slot by slot.
        filled = np.flatnonzero(present)
        empty = np.flatnonzero(~present)
        donor = filled[np.searchsorted(filled, empty) % filled.size]
        distance = ((donor - empty) % SLOTS).astype(np.uint32)
        values[empty] = values[donor] ^ (distance * np.uint32(0x9E3779B1))
    return values


def to_bytes(sig: Signature | None) -> bytes | None:
    return None if sig is None else sig.astype("<u4").tobytes()


def from_bytes(blob: bytes | None) -> Signature | None:
    if blob is None or len(blob) != SLOTS * 4:
        return None
    return np.frombuffer(blob, dtype="<u4").astype(np.uint32)


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    return float(np.count_nonzero(a == b)) / SLOTS


def buckets(sigs: Sequence[Signature]) -> npt.NDArray[np.int64]:
    """LSH bucket ids, shape (len(sigs), BANDS), signed 64-bit for a BIGINT column."""
    if not sigs:
        return np.zeros((0, BANDS), dtype=np.int64)
    bands = np.stack(sigs)[:, : BANDS * ROWS].astype(np.uint64).reshape(len(sigs), BANDS, ROWS)
    acc = np.broadcast_to((np.arange(BANDS, dtype=np.uint64) + np.uint64(1)) * _K3, (len(sigs), BANDS))
    for row in range(ROWS):
        acc = _mix(acc ^ (bands[:, :, row] * _K1))
    return acc.view(np.int64)


@dataclass(frozen=True)
class Fingerprinted:
    """An article of the current batch whose text (and so signature) was just stored."""

    article_id: int
    signature: Signature
    replaced: bool  # content changed: its old buckets must go


def _chunks(values: list[int], size: int = 2000) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def take_turn(conn: Connection) -> None:
    """Serialise the rest of this batch transaction with every other load's (PostgreSQL).

    A transaction-level advisory lock, held until commit: batches of concurrent loads (or the
    parallel writers of one load) run their cluster and link steps one at a time, each seeing
    every batch that committed before it. So two copies loaded at the same moment still find
    each other, and an edge stored by one batch to an article inserted by another is resolved
    by whichever of the two commits last. SQLite already serialises writers.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLUSTER_LOCK_KEY})


def assign_clusters(conn: Connection, items: Sequence[Fingerprinted], threshold: float) -> int:
    """Store the items' buckets and merge each into the clusters it near-duplicates.

    Runs inside the batch's transaction, after :func:`take_turn`. Returns how many items
    joined a cluster.
    """
    if not items:
        return 0
    size = chunk_size(conn)
    replaced = [item.article_id for item in items if item.replaced]
    for chunk in _chunks(replaced, size):
        conn.execute(delete(NearDupBucket).where(member_of(conn, NearDupBucket.article_id, chunk)))
    ids = [item.article_id for item in items]
    table = buckets([item.signature for item in items])
    # Stored articles sharing a bucket are read BEFORE this batch's buckets go in, so the query
    # returns only other articles (not the batch's own dozen rows per article); the batch's
    # members are matched among themselves in memory.
    by_bucket: dict[int, set[int]] = {}
    all_buckets = sorted({int(b) for b in table.ravel()})
    for chunk in _chunks(all_buckets, size):
        lookup = select(NearDupBucket.article_id, NearDupBucket.bucket).where(
            member_of(conn, NearDupBucket.bucket, chunk)
        )
        for article_id, bucket in conn.execute(lookup).tuples():
            by_bucket.setdefault(bucket, set()).add(article_id)
    rows = table.tolist()
    for article_id, row in zip(ids, rows, strict=True):
        for bucket in row:
            by_bucket.setdefault(bucket, set()).add(article_id)
    insert_integers(
        conn,
        NearDupBucket.__table__,  # type: ignore[arg-type]
        ("article_id", "band", "bucket"),
        np.column_stack(
            (
                np.repeat(np.asarray(ids, dtype=np.int64), BANDS),
                np.tile(np.arange(BANDS, dtype=np.int64), len(ids)),
                table.ravel(),
            )
        ),
    )
    candidates: dict[int, set[int]] = {}
    for row, article_id in enumerate(ids):
        shared: Counter[int] = Counter()
        for bucket in rows[row]:
            shared.update(by_bucket.get(bucket, ()))
        shared.pop(article_id, None)
        if shared:
            candidates[article_id] = {other for other, _ in shared.most_common(MAX_CANDIDATES)}
    if not candidates:
        return 0
    return _merge(conn, items, candidates, threshold)


def _merge(
    conn: Connection, items: Sequence[Fingerprinted], candidates: dict[int, set[int]], threshold: float
) -> int:
    wanted = sorted(set().union(*candidates.values()) | set(candidates))
    stored: dict[int, tuple[Signature | None, int]] = {}
    for chunk in _chunks(wanted, chunk_size(conn)):
        for article_id, blob, cluster_id in conn.execute(
            select(Article.id, Article.minhash, Article.cluster_id).where(member_of(conn, Article.id, chunk))
        ):
            stored[article_id] = (from_bytes(blob), cluster_id if cluster_id is not None else article_id)
    signatures = {item.article_id: item.signature for item in items}
    parent: dict[int, int] = {}

    def find(cluster: int) -> int:
        while parent.get(cluster, cluster) != cluster:
            cluster = parent[cluster]
        return cluster

    joined = 0
    for article_id, found in candidates.items():
        own = signatures[article_id]
        own_cluster = stored.get(article_id, (None, article_id))[1]
        matched = False
        for other in found:
            other_sig, other_cluster = stored.get(other, (None, other))
            if other_sig is None or similarity(own, other_sig) < threshold:
                continue
            matched = True
            a, b = find(own_cluster), find(other_cluster)
            if a != b:
                parent[max(a, b)] = min(a, b)
        joined += matched
    groups: dict[int, set[int]] = {}
    for cluster in list(parent):
        groups.setdefault(find(cluster), set()).add(cluster)
    for target, members in groups.items():
        olds = sorted(members | {target})
        conn.execute(
            update(Article)
            .where(or_(Article.cluster_id.in_(olds), Article.id.in_(olds)))
            .values(cluster_id=target)
        )
    return joined


def cluster_size(conn: Connection, article_id: int) -> int:
    """How many stored articles share ``article_id``'s cluster (1 = no near-duplicates)."""
    cluster = conn.execute(
        select(func.coalesce(Article.cluster_id, Article.id)).where(Article.id == article_id)
    ).scalar_one()
    return int(
        conn.execute(
            select(func.count()).where(func.coalesce(Article.cluster_id, Article.id) == cluster)
        ).scalar_one()
    )
