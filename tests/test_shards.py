"""Shards: short files together, big files alone, and boundaries that stay put when the corpus
changes (adding or removing a file moves only the shard it joins or leaves)."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from firescribe.plumbing.shards import MB, ShardParams, make_shards, shard_runs

PARAMS = ShardParams(files=16, megabytes=8)


def corpus(n: int, seed: int = 0) -> tuple[list[str], list[int]]:
    rng = random.Random(seed)
    names = sorted(f"utt{rng.randrange(10**8):08d}" for _ in range(n))
    return names, [rng.randrange(50_000, 300_000) for _ in names]  # 2-9 s of 16 kHz WAV


def changed(before: list[list[str]], after: list[list[str]]) -> list[list[str]]:
    """The shards of ``after`` that ``before`` does not have as they are."""
    old = {tuple(s) for s in before}
    return [s for s in after if tuple(s) not in old]


def test_every_file_in_exactly_one_shard_in_order():
    names, sizes = corpus(2000)
    shards = shard_runs(names, sizes, PARAMS)
    assert [s for shard in shards for s in shard] == names
    assert 2000 / 16 / 2 < len(shards) < 2000 / 16 * 2  # about `files` a shard
    # a geometric law: with 125 shards expected, the largest holds ~ln(125) x 16 files
    assert max(map(len, shards)) <= 10 * PARAMS.files


def test_a_big_file_is_a_shard_of_its_own():
    names, sizes = corpus(300)
    sizes[100] = 9 * MB
    shards = shard_runs(names, sizes, PARAMS)
    assert [names[100]] in shards


@pytest.mark.parametrize("seed", range(20))
def test_adding_a_file_moves_only_the_shard_it_joins(seed):
    names, sizes = corpus(1000, seed)
    before = shard_runs(names, sizes, PARAMS)
    rng = random.Random(seed)
    new = f"utt{rng.randrange(10**8):08d}x"
    at = sorted(names + [new]).index(new)
    after = shard_runs(names[:at] + [new] + names[at:], sizes[:at] + [100_000] + sizes[at:], PARAMS)
    moved = changed(before, after)
    # the shard it joined, or the two it split that one into
    assert 1 <= len(moved) <= 2 and any(new in s for s in moved)
    assert len(changed(after, before)) == 1  # the one shard it joined (or split) is gone


@pytest.mark.parametrize("seed", range(20))
def test_removing_a_file_moves_only_the_shard_it_leaves(seed):
    names, sizes = corpus(1000, seed)
    before = shard_runs(names, sizes, PARAMS)
    gone = random.Random(seed).randrange(len(names))
    after = shard_runs(names[:gone] + names[gone + 1 :], sizes[:gone] + sizes[gone + 1 :], PARAMS)
    moved = changed(before, after)
    # the shard it left (merged with the next one where it ended its shard)
    assert len(moved) <= 1
    assert all(set(s) - {names[gone]} for s in moved)


def test_files_of_another_language_or_hotword_list_are_in_other_shards(tmp_path):
    rows = []
    for i in range(60):
        path = tmp_path / f"f{i:02d}.wav"
        path.write_bytes(bytes(1000))
        rows.append({"sample": f"f{i:02d}", "path": str(path), "language": "zh" if i % 3 == 0 else None, "hotwords": "a.txt" if i % 5 == 0 else None})
    table = pd.DataFrame(rows).set_index("sample", drop=False)
    shards = make_shards(table, PARAMS)
    assert sorted(s for members in shards.values() for s in members) == sorted(table.index)
    for name, members in shards.items():
        assert name == members[0]
        assert len({(table.at[s, "language"], table.at[s, "hotwords"]) for s in members}) == 1


def test_a_missing_file_gets_a_shard_too(tmp_path):
    table = pd.DataFrame([{"sample": "gone", "path": str(tmp_path / "gone.wav"), "language": None, "hotwords": None}]).set_index("sample", drop=False)
    assert make_shards(table, PARAMS) == {"gone": ["gone"]}
