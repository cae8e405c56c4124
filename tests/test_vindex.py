"""The HNSW index: growth, deletion, atomic save, sidecar checks, rebuild, concurrency."""

from __future__ import annotations

import json
import threading

import numpy as np

from studio.core.vindex import VectorIndex


def _vecs(n, dim=16, seed=0):
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _open(tmp_path, labels, vecs, dim=16, eid="emb-1"):
    idx = VectorIndex(tmp_path, eid, dim)
    idx.open(lambda: (labels, vecs), lambda: set(labels.tolist()))
    return idx


def test_add_query_grow_delete_save_load(tmp_path):
    v = _vecs(3000)
    labels = np.arange(1, 3001)
    idx = _open(tmp_path, labels[:0], v[:0])
    idx.add(labels, v)  # grows past the initial capacity
    assert len(idx) == 3000
    got, sims = idx.query(v[10], 5)
    assert got[0] == 11 and sims[0] > 0.999
    idx.delete([11])
    got, _ = idx.query(v[10], 5)
    assert 11 not in got
    idx.save()
    again = _open(tmp_path, np.delete(labels, 10), np.delete(v, 10, axis=0))
    assert again.rebuilt_reason is None and len(again) == 2999
    got, _ = again.query(v[10], 5)
    assert 11 not in got


def test_reconcile_adds_and_removes_to_match_catalog(tmp_path):
    v = _vecs(100)
    labels = np.arange(100)
    idx = _open(tmp_path, labels[:50], v[:50])
    idx.save()
    # the catalog moved on while the index was closed: 50..99 added, 0..9 gone
    again = _open(tmp_path, labels[10:], v[10:])
    assert again.ids() == set(range(10, 100))


def test_mismatched_or_corrupt_index_is_rebuilt(tmp_path):
    v = _vecs(50)
    labels = np.arange(50)
    _open(tmp_path, labels, v).save()
    side = tmp_path / "emb-1.json"
    meta = json.loads(side.read_text())
    side.write_text(json.dumps({**meta, "embedder": "other"}))
    idx = _open(tmp_path, labels, v)
    assert idx.rebuilt_reason and "embedder" in idx.rebuilt_reason and len(idx) == 50
    idx.save()
    (tmp_path / "emb-1.hnsw").write_bytes(b"\0garbage" * 10)
    idx = _open(tmp_path, labels, v)
    assert idx.rebuilt_reason and len(idx) == 50
    assert idx.query(v[3], 1)[0][0] == 3


def test_query_while_adding_from_another_thread(tmp_path):
    v = _vecs(4000, seed=1)
    idx = _open(tmp_path, np.arange(0), v[:0])
    idx.add(np.arange(100), v[:100])
    errors = []

    def writer():
        try:
            for i in range(100, 4000, 100):
                idx.add(np.arange(i, i + 100), v[i : i + 100])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=writer)
    t.start()
    n = 0
    while t.is_alive() or n < 50:
        got, sims = idx.query(v[5], 3)
        assert got[0] == 5
        n += 1
    t.join()
    assert not errors and len(idx) == 4000


def _check_matches(idx, model):
    """Every live label answers its own vector's query, and nothing else is live."""
    assert idx.ids() == set(model)
    for lab, vec in model.items():
        got, sims = idx.query(vec, 3)
        assert got[0] == lab and sims[0] > 0.999, (lab, got, sims)


def test_re_embedding_deleting_and_adding_in_any_order_keeps_every_label(tmp_path):
    # hnswlib's add with replace_deleted reuses a tombstone without checking that its label
    # was added back elsewhere: re-embedding an item by deleting and re-adding it left a
    # tombstone still carrying the item's label, and a later add that reused that tombstone
    # erased the item's live entry ("Label not found" on the next re-embed, and the item
    # gone from results). Found by re-running an upgrade on a library (bench/ui_stall.py).
    rng = np.random.default_rng(3)
    idx = _open(tmp_path, np.arange(0), _vecs(0))
    model: dict[int, np.ndarray] = {}
    for step in range(60):
        live = list(model)
        op = rng.integers(3) if live else 0
        if op == 0:  # add new labels (some reuse a deleted item's id, as SQLite may)
            labels = rng.choice(80, size=int(rng.integers(1, 6)), replace=False)
            labels = np.array([lab for lab in labels if lab not in model], np.int64)
        elif op == 1:  # re-embed live items (an upgrade, a changed file)
            labels = rng.choice(live, size=min(len(live), int(rng.integers(1, 6))), replace=False)
        else:  # delete some
            gone = rng.choice(live, size=min(len(live), int(rng.integers(1, 4))), replace=False)
            idx.delete([int(g) for g in gone])
            for g in gone:
                model.pop(int(g))
            _check_matches(idx, model)
            continue
        vecs = _vecs(len(labels), seed=1000 + step)
        idx.add(np.asarray(labels, np.int64), vecs)
        model.update({int(lab): v for lab, v in zip(labels, vecs, strict=True)})
        _check_matches(idx, model)
    idx.save()
    again = _open(tmp_path, np.array(list(model), np.int64), np.stack(list(model.values())))
    assert again.rebuilt_reason is None
    _check_matches(again, model)


def test_a_label_twice_in_one_add_keeps_the_last_vector(tmp_path):
    v = _vecs(3)
    idx = _open(tmp_path, np.arange(0), _vecs(0))
    idx.add(np.array([7, 7, 8]), v)
    _check_matches(idx, {7: v[1], 8: v[2]})


def test_an_index_with_orphaned_slots_from_older_versions_is_rebuilt(tmp_path):
    v = _vecs(6)
    labels = np.arange(6)
    idx = _open(tmp_path, labels, v)
    # What the old re-embedding did: delete 0 and add it back, here into the tombstone of
    # 5 (deleted meanwhile), so 0's own old slot still carries label 0.
    idx._index.mark_deleted(0)
    idx.delete([5])
    idx._index.add_items(v[:1], [0], replace_deleted=True)
    assert idx._index.get_current_count() == 6 and 5 not in idx._index.get_ids_list()
    idx.dirty = True
    idx.save()
    again = _open(tmp_path, labels[:5], v[:5])
    assert again.rebuilt_reason is not None and "orphaned" in again.rebuilt_reason
    _check_matches(again, {int(i): v[i] for i in range(5)})
    again.add(np.array([9]), _vecs(1, seed=9))  # reuses no orphan now
    _check_matches(again, {**{int(i): v[i] for i in range(5)}, 9: _vecs(1, seed=9)[0]})


def test_a_kill_between_replacing_the_index_and_its_sidecar_is_caught(tmp_path, monkeypatch):
    import os as os_mod

    import pytest

    import studio.core.vindex as vindex

    v = _vecs(6)
    labels = np.arange(6)
    idx = _open(tmp_path, labels, v)
    idx.save()
    idx.delete([5])  # the file's size does not change, only a mark in it
    real = os_mod.replace

    def replace(a, b):
        if str(b).endswith(".json"):
            raise KeyboardInterrupt  # stands for the kill after the .hnsw was replaced
        real(a, b)

    monkeypatch.setattr(vindex.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        idx.save()
    monkeypatch.setattr(vindex.os, "replace", real)
    again = _open(tmp_path, labels[:5], v[:5])
    assert again.rebuilt_reason is not None and "interrupted" in again.rebuilt_reason
    _check_matches(again, {int(i): v[i] for i in range(5)})
