"""Catalog format: versions, migrations from every stored version, damage handling."""

from __future__ import annotations

import sqlite3

import pytest

from studio.core import catalog as cat_mod
from studio.core.catalog import SCHEMA_VERSION, Catalog, CatalogError


def _make_v1(path):
    db = sqlite3.connect(path)
    for stmt in cat_mod._statements(cat_mod._SCHEMA_V1):
        db.execute(stmt)
    db.execute("INSERT INTO meta VALUES('schema_version','1')")
    db.execute("INSERT INTO roots(path, added) VALUES('/music', 0)")
    db.execute("INSERT INTO contents(hash, size, duration, sr) VALUES('abc', 10, 0.5, 44100)")
    db.execute(
        "INSERT INTO files(path, root_id, size, mtime_ns, content_id) "
        "VALUES('/music/k.wav', 1, 10, 5, 1)"
    )
    db.execute("INSERT INTO items(content_id, start, end) VALUES(1, 0, 0.5)")
    db.execute("INSERT INTO vectors VALUES(1, 'builtin', x'0000803f')")
    db.commit()
    db.close()


def test_new_catalog_has_current_version(tmp_path):
    c = Catalog(tmp_path / "c.sqlite")
    assert c.schema_version == SCHEMA_VERSION
    assert c.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrates_v1_keeping_every_row(tmp_path):
    p = tmp_path / "c.sqlite"
    _make_v1(p)
    c = Catalog(p)
    assert c.schema_version == SCHEMA_VERSION
    assert c.roots() == [(1, "/music")]
    row = c.file_by_path("/music/k.wav")
    assert row is not None and row.content_id == 1
    assert c.count_vectors("builtin") == 1
    cols = [r[1] for r in c.db.execute("PRAGMA table_info(contents)")]
    assert {"analysis", "category", "analysis_version"} <= set(cols)
    c.close()
    assert Catalog(p).schema_version == SCHEMA_VERSION  # idempotent reopen


def test_every_stored_version_has_a_migration():
    assert set(cat_mod.MIGRATIONS) == set(range(1, SCHEMA_VERSION))


def test_newer_catalog_is_refused(tmp_path):
    p = tmp_path / "c.sqlite"
    Catalog(p).close()
    db = sqlite3.connect(p)
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.commit()
    db.close()
    with pytest.raises(CatalogError, match="newer Studio"):
        Catalog(p)


def test_corrupt_catalog_gives_clear_error(tmp_path):
    p = tmp_path / "c.sqlite"
    p.write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(CatalogError, match="delete it to rebuild"):
        Catalog(p)


def test_failed_write_rolls_back(tmp_path):
    c = Catalog(tmp_path / "c.sqlite")
    with pytest.raises(RuntimeError):
        with c.write() as db:
            db.execute("INSERT INTO roots(path, added) VALUES('/x', 0)")
            raise RuntimeError("boom")
    assert c.roots() == []


def test_v2_becomes_v3_keeping_ids_and_ids_are_never_reused(tmp_path):
    p = tmp_path / "c.sqlite"
    _make_v1(p)
    db = sqlite3.connect(p)  # a second content and item, then on to v2 as Studio had it
    db.execute("INSERT INTO contents(hash, size) VALUES('def', 20)")
    db.execute("INSERT INTO items(content_id, start, end) VALUES(2, 0, 1)")
    db.execute("INSERT INTO vectors VALUES(2, 'builtin', x'00000040')")
    for stmt in cat_mod._statements(cat_mod._MIGRATE_1_TO_2):
        db.execute(stmt)
    db.execute("UPDATE meta SET value='2' WHERE key='schema_version'")
    db.commit()
    db.close()
    c = Catalog(p)
    assert c.schema_version == SCHEMA_VERSION
    assert c.db.execute("SELECT id, hash FROM contents ORDER BY id").fetchall() == [
        (1, "abc"), (2, "def")]
    assert c.db.execute("SELECT id, content_id FROM items ORDER BY id").fetchall() == [
        (1, 1), (2, 2)]
    assert c.count_vectors("builtin") == 2
    assert c.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with c.write() as w:  # the newest sound goes, another comes
        w.execute("DELETE FROM vectors WHERE item_id=2")
        w.execute("DELETE FROM items WHERE id=2")
        w.execute("DELETE FROM contents WHERE id=2")
        cid = w.execute("INSERT INTO contents(hash, size) VALUES('ghi', 30)").lastrowid
        iid = w.execute("INSERT INTO items(content_id, start, end) VALUES(?, 0, 1)",
                        (cid,)).lastrowid
    assert (cid, iid) == (3, 3)
    with pytest.raises(sqlite3.IntegrityError):  # foreign keys are on again
        with c.write() as w:
            w.execute("INSERT INTO items(content_id, start, end) VALUES(99, 0, 1)")
    c.close()


def test_a_write_lock_held_elsewhere_does_not_block_opening(tmp_path):
    """Another Studio's index run holds the write lock: `studio info` / `search` open the
    catalog at once (they used to wait 30 s and call it unreadable, 'delete it')."""
    import time

    Catalog(tmp_path / "c.sqlite").close()
    other = sqlite3.connect(tmp_path / "c.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        t = time.perf_counter()
        c = Catalog(tmp_path / "c.sqlite")
        assert c.schema_version == SCHEMA_VERSION and c.roots() == []
        assert time.perf_counter() - t < 5
        c.close()
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.mark.parametrize(
    "error,says,not_says",
    [
        ("database is locked", "in use by another Studio", "delete"),
        ("attempt to write a readonly database", "read-only or not yours", "delete"),
        ("unable to open database file", "read-only or not yours", "delete"),
        ("file is not a database", "delete it to rebuild", "read-only"),
        ("database disk image is malformed", "delete it to rebuild", "read-only"),
    ],
)
def test_only_a_damaged_catalog_is_called_damaged(error, says, not_says):
    msg = cat_mod.open_error("/x/catalog.sqlite", sqlite3.OperationalError(error))
    assert says in msg and not_says not in msg


def test_a_folder_held_twice_and_a_root_inside_it_merge_into_one(tmp_path):
    """As an older Studio could leave them: 'z real', 'a link' to it, and 'z real/sub'. The
    inner root was folded into the duplicate just deleted: a foreign-key failure at every
    index run."""
    import os
    import time

    (tmp_path / "z real" / "sub").mkdir(parents=True)
    os.symlink(tmp_path / "z real", tmp_path / "a link")
    c = Catalog(tmp_path / "c.sqlite")
    with c.write() as db:
        for p in ("z real", "a link", "z real/sub"):
            db.execute("INSERT INTO roots(path, added) VALUES(?, ?)",
                       (str(tmp_path / p), time.time()))
        db.execute("INSERT INTO files(path, root_id, size, mtime_ns) VALUES(?, 3, 1, 1)",
                   (str(tmp_path / "z real" / "sub" / "x.wav"),))
    c.merge_nested_roots()
    assert [p for _, p in c.roots()] == [str(tmp_path / "z real")]
    assert c.db.execute("SELECT root_id FROM files").fetchall() == [(1,)]


def test_close_leaves_a_live_threads_connection_to_it(tmp_path) -> None:
    """Closing the catalog while a search thread was mid-query closed that thread's
    connection under it: the process crashed in sqlite (seen as a segfault in CI). Now the
    other thread keeps its connection; this thread's is closed."""
    import threading

    from studio.core.catalog import Catalog

    cat = Catalog(tmp_path / "c.sqlite")
    go, opened, out = threading.Event(), threading.Event(), []

    def worker() -> None:
        conn = cat.db  # as a query in progress holds it
        conn.execute("SELECT 1")
        opened.set()
        go.wait(10)
        out.append(conn.execute("SELECT COUNT(*) FROM files").fetchone()[0])
        cat.close_thread()

    t = threading.Thread(target=worker)
    t.start()
    assert opened.wait(10)
    mine = cat.db
    cat.close()
    go.set()
    t.join(10)
    assert out == [0]
    with pytest.raises(sqlite3.ProgrammingError):
        mine.execute("SELECT 1")
