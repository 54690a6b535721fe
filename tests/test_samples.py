"""Sample ids are safe and unique; sample sheets are checked up front, naming the row."""

import pytest

from firescribe.plumbing.samples import SampleSheetError, load_samples, make_sample_ids, read_sample_sheet, slugify


def test_ids_safe_and_unique_for_awkward_names(tmp_path):
    names = ["a b.mp4", "a_b.mp4", "x/talk.mp4", "y/talk.mp4", "talk.mkv", "talk.mp4", "-rm -rf.wav",
             "it's $HOME; ls.mp3", "会议 记录.m4a", "a\"q\".wav"]
    for n in names:
        p = tmp_path / "in" / n
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    table = load_samples(tmp_path / "in")
    ids = list(table["sample"])
    assert len(ids) == len(names) == len(set(ids))
    for i in ids:
        assert slugify(i) == i and not i.startswith("-") and "/" not in i
        assert not set(i) & set(" '\"$;&|`\\")
    assert "会议_记录" in ids
    # deterministic
    assert list(load_samples(tmp_path / "in")["sample"]) == ids


def test_same_stem_in_two_folders_gets_distinct_ids():
    ids = make_sample_ids(["a/talk.mp4", "b/talk.mp4"])
    assert ids == ["a__talk", "b__talk"]
    ids = make_sample_ids(["talk.mp4", "talk.mkv"])
    assert ids[0] != ids[1] and all(i.startswith("talk-") for i in ids)


def write_sheet(tmp_path, rows, header="sample\tpath"):
    sheet = tmp_path / "samples.tsv"
    sheet.write_text(header + "\n" + "\n".join(rows) + "\n")
    return sheet


def test_sheet_missing_file_names_the_row(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"x")
    sheet = write_sheet(tmp_path, ["a\ta.wav", "b\tmissing.wav"])
    with pytest.raises(SampleSheetError, match=r"line 3.*missing\.wav.*does not exist"):
        read_sample_sheet(sheet)


def test_sheet_duplicate_id_names_both_rows(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"x")
    sheet = write_sheet(tmp_path, ["a\ta.wav", "a\ta.wav"])
    with pytest.raises(SampleSheetError, match=r"line 3: duplicate sample id 'a' \(first on line 2\)"):
        read_sample_sheet(sheet)


def test_sheet_bad_column(tmp_path):
    sheet = write_sheet(tmp_path, ["a\ta.wav\tx"], header="sample\tpath\tcolour")
    with pytest.raises(SampleSheetError, match="unknown column.*colour"):
        read_sample_sheet(sheet)
    sheet = write_sheet(tmp_path, ["a"], header="sample")
    with pytest.raises(SampleSheetError, match=r"lacks column.*path"):
        read_sample_sheet(sheet)


def test_sheet_unsafe_id(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"x")
    sheet = write_sheet(tmp_path, ["x;rm\ta.wav"])
    with pytest.raises(SampleSheetError, match="line 2: sample id 'x;rm' is not safe"):
        read_sample_sheet(sheet)


def test_sheet_relative_paths_and_optional_columns(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"x")
    (tmp_path / "a.txt").write_text("hello")
    sheet = write_sheet(tmp_path, ["a\ta.wav\ten\ta.txt"], header="sample\tpath\tlanguage\treference")
    t = read_sample_sheet(sheet)
    assert t.loc["a", "path"] == str((tmp_path / "a.wav").resolve())
    assert t.loc["a", "language"] == "en"
    assert t.loc["a", "reference"] == str((tmp_path / "a.txt").resolve())


def test_sheet_hotword_lists(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"x")
    (tmp_path / "b.wav").write_bytes(b"x")
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "a.txt").write_text("火山引擎\n", encoding="utf-8")
    sheet = write_sheet(tmp_path, ["a\ta.wav\tlists/a.txt", "b\tb.wav\t"], header="sample\tpath\thotwords")
    t = read_sample_sheet(sheet)
    assert t.loc["a", "hotwords"] == str((tmp_path / "lists" / "a.txt").resolve())
    assert t.loc["b", "hotwords"] is None
    sheet = write_sheet(tmp_path, ["a\ta.wav\tlists/none.txt"], header="sample\tpath\thotwords")
    with pytest.raises(SampleSheetError, match=r"line 2: hotword list '.*none\.txt' of sample 'a' does not exist"):
        read_sample_sheet(sheet)
