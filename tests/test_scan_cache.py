"""The scan's stat cache: an unchanged file is not read again, and every kind of edit is still seen."""

import hashlib
import os
import time

from codeintel_assets import reconcile
from codeintel_assets.reconcile import StatCache, scan_repository


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _scan(root, cache, **kw):
    return {f.key: f.sha256 for f in scan_repository(root, cache=cache, **kw)}


def _counting(monkeypatch):
    """Count the files the scan reads (the real hash function still runs)."""
    read = []
    real = reconcile._hash

    def counted(p):
        read.append(p.name)
        return real(p)
    monkeypatch.setattr(reconcile, "_hash", counted)
    return read


def test_unchanged_files_are_not_read_again_and_edits_are_seen(tmp_path, monkeypatch):
    monkeypatch.setattr(StatCache, "RACY_SECONDS", -1.0)  # files written just now may be cached (see below)
    root, cache = tmp_path / "repo", tmp_path / "scan.json"
    root.mkdir()
    (root / "a.py").write_bytes(b"x = 1\n")
    (root / "b.py").write_bytes(b"y = 2\n")
    read = _counting(monkeypatch)
    assert _scan(root, cache) == {"a.py": _sha(b"x = 1\n"), "b.py": _sha(b"y = 2\n")}
    assert sorted(read) == ["a.py", "b.py"] and cache.exists()

    read.clear()
    assert _scan(root, cache) == {"a.py": _sha(b"x = 1\n"), "b.py": _sha(b"y = 2\n")}
    assert read == []  # nothing read: both hashes came from the cache

    # An edit that keeps the size and puts the old mtime back (`touch -r`): ctime still moves
    st = os.stat(root / "a.py")
    time.sleep(0.01)
    (root / "a.py").write_bytes(b"x = 9\n")
    os.utime(root / "a.py", ns=(st.st_atime_ns, st.st_mtime_ns))
    read.clear()
    assert _scan(root, cache)["a.py"] == _sha(b"x = 9\n")
    assert read == ["a.py"]

    # --full (trust_cache=False): every file is read again
    read.clear()
    assert _scan(root, cache, trust_cache=False)["b.py"] == _sha(b"y = 2\n")
    assert sorted(read) == ["a.py", "b.py"]


def test_a_file_written_in_the_scans_clock_tick_is_not_cached(tmp_path, monkeypatch):
    """An edit within the same timestamp tick as the hashing would not move mtime or ctime: such files are
    hashed again by the next scan, whatever the cache says."""
    root, cache = tmp_path / "repo", tmp_path / "scan.json"
    root.mkdir()
    (root / "a.py").write_bytes(b"x = 1\n")
    read = _counting(monkeypatch)
    _scan(root, cache)
    read.clear()
    assert _scan(root, cache) == {"a.py": _sha(b"x = 1\n")}
    assert read == ["a.py"]  # written less than RACY_SECONDS ago: read again


def test_a_cache_of_another_root_or_a_damaged_one_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setattr(StatCache, "RACY_SECONDS", -1.0)
    one, two, cache = tmp_path / "one", tmp_path / "two", tmp_path / "scan.json"
    for root, text in ((one, b"a = 1\n"), (two, b"a = 2\n")):
        root.mkdir()
        (root / "m.py").write_bytes(text)
    assert _scan(one, cache) == {"m.py": _sha(b"a = 1\n")}
    assert _scan(two, cache) == {"m.py": _sha(b"a = 2\n")}  # same key, other root: not taken from the cache
    cache.write_text("{not json", encoding="utf-8")
    assert _scan(two, cache) == {"m.py": _sha(b"a = 2\n")}
