"""The command line as PRODUCT.md specifies it, driven in real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def studio(*args: str, data_dir: Path, env: dict | None = None, timeout: float = 120):
    e = {**os.environ, "STUDIO_WORKERS": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "studio", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=e,
    )


@pytest.fixture(scope="module")
def indexed(drum_kit: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli-data")
    r = studio("index", str(drum_kit), data_dir=d)
    assert r.returncode == 0, r.stderr
    assert "30 indexed, 0 unchanged, 0 skipped" in r.stdout
    return d


def test_index_summary_and_resume(indexed, drum_kit):
    r = studio("index", data_dir=indexed)
    assert r.returncode == 0 and "0 indexed, 30 unchanged, 0 skipped" in r.stdout


def test_search_json_one_object_per_query_in_order(indexed, drum_kit):
    kick, hat = drum_kit / "Kick 01.wav", drum_kit / "Closed Hat 02.wav"
    r = studio(
        "search",
        "--like",
        str(kick),
        "--text",
        "snare",
        "--like",
        str(hat),
        "-k",
        "3",
        "--json",
        data_dir=indexed,
    )
    assert r.returncode == 0, r.stderr
    objs = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["query"] for o in objs] == [
        {"like": str(kick)},
        {"text": "snare"},
        {"like": str(hat)},
    ]
    for o in objs:
        assert len(o["results"]) == 3
        for res in o["results"]:
            assert os.path.isabs(res["path"]) and isinstance(res["score"], float)
            assert 1 / 12 <= res["category_conf"] <= 1.0  # the top of 12 categories' odds
    assert all("Kick" in x["path"] for x in objs[0]["results"])
    assert all(x["category"] == "kick" for x in objs[0]["results"])
    assert all("Hat" in x["path"] for x in objs[2]["results"])


def test_like_with_words_is_one_query(indexed, drum_kit):
    kick = drum_kit / "Kick 01.wav"
    r = studio(
        "search", "--like", str(kick), "--with", "bright", "-k", "2", "--json", data_dir=indexed
    )
    assert r.returncode == 0, r.stderr
    (obj,) = [json.loads(x) for x in r.stdout.splitlines()]
    assert obj["query"] == {"like": str(kick), "text": "bright"}


def test_text_output_and_info(indexed, drum_kit):
    r = studio("search", "--like", str(drum_kit / "Snare 01.wav"), "-k", "2", data_dir=indexed)
    assert r.returncode == 0 and r.stdout.count("Snare") >= 2
    r = studio("info", data_dir=indexed)
    assert r.returncode == 0
    assert str(indexed) in r.stdout and "30 indexed" in r.stdout and str(drum_kit) in r.stdout


def test_data_dir_from_environment(indexed, drum_kit):
    e = {**os.environ, "STUDIO_DATA_DIR": str(indexed)}
    r = subprocess.run(
        [sys.executable, "-m", "studio", "info"], capture_output=True, text=True, env=e, timeout=60
    )
    assert r.returncode == 0 and "30 indexed" in r.stdout


@pytest.mark.parametrize(
    "args,code,needle",
    [
        (["search"], 2, "--like"),
        (["search", "--like", "/nonexistent.wav"], 2, "no such file"),
        (["search", "--text", "kick", "-k", "0"], 2, "-k"),
        (["index", "/definitely/not/here"], 2, "not a folder"),
        (["index", "--models", "bogus"], 2, "unknown model"),
        (["frobnicate"], 2, "invalid choice"),
        (["search", "--text", "kick", "--category", "bogus"], 2, "unknown category 'bogus'"),
        (["search", "--text", "kick", "--word", "zesty"], 2, "unknown sound word 'zesty'"),
        (["search", "--text", "  "], 2, "--text needs words"),
        (["search", "--like", "/tmp"], 2, "is a folder"),
        (["search", "--text", "snare", "--min-length", "2", "--max-length", "1"], 2,
         "longer than --max-length"),
        (["search", "--text", "snare", "--max-length", "-1"], 2, "0 seconds or more"),
        (["search", "--text", "snare", "--min-length", "nan"], 2, "0 seconds or more"),
        (["search", "--text", "snare", "--min-length", "long"], 2, "not a number"),
        (["search", "-k", "abc"], 2, "studio search: error: argument -k"),
        (["search", "--text", "kick", "--bogus"], 2, "studio search: error: unrecognized"),
        (["remove", "/not/a/library/folder"], 2, "is not a library folder"),
        (["remove"], 2, "studio remove: error"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2_with_one_line(indexed, args, code, needle):
    r = studio(*args, data_dir=indexed)
    assert r.returncode == code, (r.stdout, r.stderr)
    assert needle in r.stderr and "Traceback" not in r.stderr
    # One line (review 10: argparse's usage came first, 3-5 lines), naming the command.
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_failures_exit_1_with_one_line_and_traceback_only_with_debug(tmp_path, drum_kit):
    empty = tmp_path / "empty-data"
    r = studio("search", "--like", str(drum_kit / "Kick 01.wav"), data_dir=empty)
    assert r.returncode == 1 and "studio index" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    broken = tmp_path / "broken-data"
    broken.mkdir()
    (broken / "catalog.sqlite").write_bytes(b"garbage" * 1000)
    r = studio("info", data_dir=broken)
    assert r.returncode == 1 and "delete it to rebuild" in r.stderr and "Traceback" not in r.stderr
    r = studio("info", "--debug", data_dir=broken)
    assert r.returncode == 1 and "Traceback" in r.stderr


def test_search_a_non_audio_query_file(indexed, tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("hello")
    r = studio("search", "--like", str(bad), data_dir=indexed)
    assert r.returncode == 1 and "notes.wav" in r.stderr and "Traceback" not in r.stderr


def test_after_an_upgrade_search_says_what_is_missing_and_index_catches_up(drum_kit, tmp_path):
    import shutil
    import sqlite3

    d = tmp_path / "data"
    assert studio("index", str(drum_kit), data_dir=d).returncode == 0
    # As an older Studio would have left it: vectors and index files under another id.
    db = sqlite3.connect(d / "catalog.sqlite")
    current = db.execute("SELECT DISTINCT embedder FROM vectors").fetchone()[0]
    db.execute("UPDATE vectors SET embedder='builtin-v0-old'")
    db.execute("UPDATE contents SET analysis_version=0")
    db.commit()
    db.close()
    for f in list((d / "index").iterdir()):
        shutil.move(f, f.with_name(f.name.replace(current, "builtin-v0-old")))
    kick = str(drum_kit / "Kick 01.wav")
    r = studio("search", "--like", kick, "-k", "3", data_dir=d)
    assert r.returncode == 0 and "no results" in r.stdout
    assert "30 of 30 items (sounds and loop windows) have no vector from this version's " \
        f"built-in embedder ({current})" in r.stderr
    assert studio("search", "--text", "kick", data_dir=d).stderr == ""  # text needs no vectors
    assert "run `studio index`" in r.stderr
    info = studio("info", data_dir=d).stdout
    assert "builtin-v0-old: 30 vectors (an older Studio's" in info
    assert f"{current}: 30 items not embedded yet" in info
    r = studio("index", data_dir=d)
    assert r.returncode == 0
    summary = "0 indexed, 30 unchanged, 0 skipped, 30 embedded with default, 30 re-analysed"
    assert summary in r.stdout
    assert sorted(f.name for f in (d / "index").iterdir()) == [f"{current}.hnsw", f"{current}.json"]
    r = studio("search", "--like", kick, "-k", "3", data_dir=d)
    hits = [line for line in r.stdout.splitlines() if line.strip()[:1].isdigit()]
    assert r.returncode == 0 and r.stderr == ""
    assert len(hits) == 3 and all("/Kick " in h for h in hits)


def test_output_into_a_closed_pipe_is_not_an_error(indexed):
    cmd = (f"{sys.executable} -m studio search --text kick -k 30 --data-dir {indexed} "
           "| head -c 1 > /dev/null; echo ${PIPESTATUS[0]}")  # fmt: skip
    r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "STUDIO_WORKERS": "1"})
    assert r.stdout.strip() == "0" and "Broken pipe" not in r.stderr, (r.stdout, r.stderr)


@pytest.mark.parametrize(
    "args,app",
    [
        ([], True), (["--data-dir", "/x"], True), (["--data-dir=/x"], True), (["app"], True),
        (["--data-dir", "/x", "--help"], False), (["--data-dir=/x", "--version"], False),
        (["--data-dir", "/x", "info"], False), (["--help"], False), (["index", "/x"], False),
    ],
)  # fmt: skip
def test_only_no_command_opens_the_app(args, app):
    """`studio --data-dir D --help` opened the window (and hung a script) instead of help."""
    from studio.__main__ import _opens_app

    assert _opens_app(args) is app


def test_search_in_a_data_dir_with_no_library_creates_nothing(tmp_path):
    typo = tmp_path / "mistyped"
    r = studio("search", "--text", "kick", data_dir=typo)
    assert r.returncode == 1 and "no library in" in r.stderr and not typo.exists()
    f = tmp_path / "a file"
    f.write_text("x")
    r = studio("info", data_dir=f)
    assert r.returncode == 1 and "is a file, not a folder" in r.stderr


def test_negative_workers_is_a_usage_error(tmp_path):
    r = studio("index", str(tmp_path), "--workers", "-3", data_dir=tmp_path / "d")
    assert r.returncode == 2 and "must be 0 or more" in r.stderr


def test_info_before_any_index_says_where_data_lives_and_creates_nothing(tmp_path):
    d = tmp_path / "not yet"
    r = studio("info", data_dir=d)
    assert r.returncode == 0 and str(d) in r.stdout and "no library here yet" in r.stdout
    assert not d.exists()


def test_an_empty_data_dir_is_a_usage_error_not_the_default_library(drum_kit, tmp_path):
    """`--data-dir "$UNSET"` indexed into STUDIO_DATA_DIR's library, or the user's real one
    (review 10)."""
    env_dir = tmp_path / "from-env"
    for form in (["--data-dir", ""], ["--data-dir="]):
        r = subprocess.run([sys.executable, "-m", "studio", "index", str(drum_kit), *form],
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "STUDIO_DATA_DIR": str(env_dir)})
        assert r.returncode == 2 and "--data-dir needs a folder" in r.stderr
    assert not env_dir.exists()


def test_index_with_no_folders_creates_nothing_and_a_failed_run_adds_no_folder(
    drum_kit, tmp_path
):
    d = tmp_path / "data"
    r = studio("index", data_dir=d)
    assert r.returncode == 2 and "no folders yet" in r.stderr and not d.exists()
    r = studio("index", str(drum_kit), "--models", "default,mert", data_dir=d,
               env={"HF_HOME": str(tmp_path / "hf")})
    assert r.returncode == 1 and "not downloaded" in r.stderr
    assert "folders:   0" in studio("info", data_dir=d).stdout


def test_a_renamed_library_folder_is_relinked_and_can_be_removed(drum_kit, tmp_path):
    """`mv Pack Pack2; studio index Pack2` decoded and analysed every file again, the old
    folder was warned about forever and no command could take it out (review 10)."""
    import shutil

    d, pack = tmp_path / "data", tmp_path / "Pack"
    shutil.copytree(drum_kit, pack)
    assert studio("index", str(pack), data_dir=d).returncode == 0
    pack.rename(tmp_path / "Pack2")
    r = studio("index", str(tmp_path / "Pack2"), data_dir=d)
    assert r.returncode == 0 and "0 indexed" in r.stdout and "30 moved" in r.stdout
    assert "removed" not in r.stdout  # nothing was
    r = studio("index", data_dir=d)
    assert "not found, and most of its 30 samples are in another library folder" in r.stdout
    assert "studio remove" in r.stdout
    info = studio("info", data_dir=d).stdout
    assert f"{pack}  (not found: 30 samples kept, hidden)" in info
    r = studio("remove", str(pack), data_dir=d)
    assert r.returncode == 0 and f"removed {pack}" in r.stdout
    info = studio("info", data_dir=d).stdout
    assert "folders:   1" in info and "30 indexed" in info
    r = studio("search", "--text", "kick", "-k", "50", "--json", data_dir=d)
    paths = [h["path"] for h in json.loads(r.stdout)["results"]]
    assert paths and all(p.startswith(str(tmp_path / "Pack2")) for p in paths)
    assert sorted(os.listdir(tmp_path / "Pack2")) == sorted(os.listdir(drum_kit))  # untouched


def test_a_newline_in_a_file_name_stays_on_its_result_line(tmp_path, drum_kit):
    import shutil

    lib, d = tmp_path / "lib", tmp_path / "data"
    lib.mkdir()
    shutil.copy(drum_kit / "Kick 01.wav", lib / "kick\n  2.  0.999  fake.wav")
    assert studio("index", str(lib), data_dir=d).returncode == 0
    r = studio("search", "--text", "kick", data_dir=d)
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert len(lines) == 2 and lines[1].endswith("kick\\n  2.  0.999  fake.wav")


def test_the_app_without_a_display_says_so_in_one_line(tmp_path):
    """With no display Qt aborted the process (SIGABRT, exit 134, a page of plugin
    messages) (review 10)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the check is for Linux, where Qt needs a display server")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    r = subprocess.run([sys.executable, "-m", "studio", "--data-dir", str(tmp_path / "d")],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 1 and "no display" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_an_empty_data_dir_does_not_open_the_app_on_the_default_library(tmp_path):
    for form in (["--data-dir", ""], ["--data-dir="]):
        r = subprocess.run([sys.executable, "-m", "studio", *form], capture_output=True,
                           text=True, timeout=60,
                           env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        assert r.returncode == 2 and "--data-dir needs a folder" in r.stderr


def test_filters_alone_browse_the_library(indexed):
    """Review 12: filters with no --like or --text were a usage error (the app showed
    nothing); they browse what passes them, the likeliest of the category first."""
    r = studio("search", "--category", "kick", "-k", "3", "--json", data_dir=indexed)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["query"] == {"browse": "category kick"}
    assert len(res["results"]) == 3 and all(h["category"] == "kick" for h in res["results"])
    scores = [h["score"] for h in res["results"]]
    assert scores == sorted(scores, reverse=True)
    r = studio("search", "--max-length", "0.2", data_dir=indexed)
    assert r.returncode == 0 and r.stdout.startswith("browse 0.2 s or shorter"), r.stdout
    durs = [float(line.split()[3].rstrip("s")) for line in r.stdout.splitlines()[1:] if line.strip()]
    assert durs and all(d <= 0.2 for d in durs)
