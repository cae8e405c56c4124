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
