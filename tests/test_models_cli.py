"""`studio models`: list, link and download through the argparse front end."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from studio import cli_models

pytest.importorskip("transformers")

from tiny_models import build_tiny_mert  # noqa: E402


@pytest.fixture(scope="module")
def mert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_mert(tmp_path_factory.mktemp("cli") / "MERT-v1-95M")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))


def studio_models(argv: list[str], data_dir: Path) -> int:
    parser = argparse.ArgumentParser(prog="studio")
    parser.add_argument("--data-dir", type=Path)
    sub = parser.add_subparsers(dest="command")
    cli_models.add_parser(sub)
    args = parser.parse_args(["models", *argv])
    return cli_models.run(args, data_dir)


def test_list_default(tmp_path: Path, capsys) -> None:
    assert studio_models([], tmp_path) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("mert") and "missing" in out[1] and "CC-BY-NC-4.0" in out[1]
    assert out[2].startswith("clap") and "missing" in out[2]


def test_link_then_list(tmp_path: Path, mert_dir: Path, capsys) -> None:
    assert studio_models(["link", "mert", str(mert_dir)], tmp_path) == 0
    assert "mert linked" in capsys.readouterr().out
    assert studio_models(["list"], tmp_path) == 0
    line = capsys.readouterr().out.splitlines()[1]
    assert "ready" in line and str(mert_dir) in line


def test_link_bad_folder(tmp_path: Path, capsys) -> None:
    """A folder that is not there is a usage error (2); one that holds no usable model is a
    failure (1); each is one line in the CLI's own voice."""
    assert studio_models(["link", "clap", str(tmp_path / "nowhere")], tmp_path) == 2
    err = capsys.readouterr().err
    assert err.startswith("studio: error: not a folder") and err.count("\n") == 1
    (tmp_path / "empty").mkdir()
    assert studio_models(["link", "clap", str(tmp_path / "empty")], tmp_path) == 1
    err = capsys.readouterr().err
    assert err.startswith("studio: ") and err.count("\n") == 1


def test_download_offline(tmp_path: Path, capsys) -> None:
    assert studio_models(["download", "mert"], tmp_path) == 1
    cap = capsys.readouterr()
    assert "CC-BY-NC-4.0" in cap.out.splitlines()[0]
    assert cap.err.count("\n") == 1 and "studio models link mert" in cap.err


def test_unknown_model_is_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as e:
        studio_models(["download", "gpt"], tmp_path)
    assert e.value.code == 2
