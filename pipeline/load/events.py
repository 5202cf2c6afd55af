"""Which stored versions bring a removed story back unchanged (``article_versions.event``).

A version that follows a ``removed`` version is a return of the story: ``restored`` when its
content is the content the story had before it was removed, ``content`` when it came back
changed. Read under the row locks the batch's upsert holds, so a concurrent removal cannot
slip in between.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, select

from pipeline.db.models import ArticleVersion
from pipeline.load.bulk import chunk_size, member_of

REMOVED = "removed"
RESTORED = "restored"
CONTENT = "content"


def restored_versions(conn: Connection, new: Mapping[int, tuple[int, str]]) -> set[int]:
    """Articles (of ``new``: id -> (new version, its content hash)) whose new version is a restore."""
    later = {article_id: pair for article_id, pair in new.items() if pair[0] > 1}
    if not later:
        return set()
    v = ArticleVersion
    after_removal: set[int] = set()
    ids = sorted(later)
    size = chunk_size(conn)
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        for article_id, version in conn.execute(
            select(v.article_id, v.version).where(member_of(conn, v.article_id, chunk), v.event == REMOVED)
        ):
            if version == later[article_id][0] - 1:
                after_removal.add(article_id)
    if not after_removal:
        return set()
    last_content: dict[int, tuple[int, str]] = {}
    candidates = sorted(after_removal)
    for start in range(0, len(candidates), size):
        chunk = candidates[start : start + size]
        for article_id, version, content_hash in conn.execute(
            select(v.article_id, v.version, v.content_hash).where(
                member_of(conn, v.article_id, chunk), v.event != REMOVED
            )
        ):
            if version < later[article_id][0] and version > last_content.get(article_id, (0, ""))[0]:
                last_content[article_id] = (version, content_hash)
    return {
        article_id
        for article_id in after_removal
        if article_id in last_content and last_content[article_id][1] == later[article_id][1]
    }
