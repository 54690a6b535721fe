"""Build the sample table (sample id -> media path) from a folder or a sample sheet.

Each sample's ``source`` is the media path as the user gave it (relative to the input folder,
or as written in the sample sheet), so that transcripts do not change when a corpus moves.
Its ``path`` (what the workflow reads) is never resolved either: relative where the input
was given relative to the working directory, so that a project folder moved as a whole
(media, sheet and results together) has nothing to re-run.

Sample ids are used as file names and Snakemake wildcards, so they must be safe
(no '/', no shell metacharacters, no leading '-') and unique, even when two inputs
differ only by folder, extension, or characters that are replaced.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path

import pandas as pd

MEDIA_EXTENSIONS = frozenset(
    ".wav .flac .mp3 .m4a .aac .ogg .oga .opus .wma .aiff .aif .amr .ac3 .mka .webm "
    ".mp4 .m4v .mkv .mov .avi .wmv .flv .ts .mts .m2ts .mpg .mpeg .3gp .vob .ogv".split()
)

SAMPLE_COLUMNS = ["sample", "path", "language", "reference", "hotwords"]
# optional columns that name a file, relative to the sheet's folder
FILE_COLUMNS = {"reference": "reference file", "hotwords": "hotword list"}
_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


class SampleSheetError(ValueError):
    """A sample sheet or input folder that cannot be used; the message names the row or file."""


def slugify(text: str) -> str:
    """Keep letters/digits of any script, '.', '-' and '_'; everything else becomes '_'."""
    text = unicodedata.normalize("NFC", text)
    slug = _UNSAFE.sub("_", text).strip("._-")
    return slug or "sample"


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def make_sample_ids(rel_paths: list[str]) -> list[str]:
    """Deterministic safe ids: slug of the path without extension, plus a hash where slugs collide."""
    slugs = [slugify(str(Path(p).with_suffix("")).replace(os.sep, "__")) for p in rel_paths]
    counts: dict[str, int] = {}
    for s in slugs:
        counts[s] = counts.get(s, 0) + 1
    return [f"{s}-{_short_hash(p)}" if counts[s] > 1 else s for s, p in zip(slugs, rel_paths)]


def scan_folder(folder: str | os.PathLike) -> pd.DataFrame:
    """All media files below ``folder`` (recursive, sorted), as a sample table."""
    root = Path(folder)
    if not root.is_dir():
        raise SampleSheetError(f"input folder {str(root)!r} does not exist or is not a folder")
    rel = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in MEDIA_EXTENSIONS and not p.name.startswith(".")
    )
    table = pd.DataFrame(
        {
            "sample": make_sample_ids(rel),
            "path": [str(root / r) for r in rel],
            "source": rel,
            "language": None,
            "reference": None,
            "hotwords": None,
        }
    )
    return table.set_index("sample", drop=False)


def read_sample_sheet(sheet: str | os.PathLike) -> pd.DataFrame:
    """Read and check a TSV sample sheet (columns: sample, path; optional language, reference, hotwords).

    Relative paths are relative to the sheet's folder. Every problem names the row.
    """
    sheet = Path(sheet)
    try:
        table = pd.read_csv(sheet, sep="\t", dtype=str, keep_default_na=False, comment="#")
    except Exception as exc:  # pandas raises many types for malformed files
        raise SampleSheetError(f"sample sheet {str(sheet)!r} cannot be read: {exc}") from exc
    missing = {"sample", "path"} - set(table.columns)
    if missing:
        raise SampleSheetError(f"sample sheet {str(sheet)!r} lacks column(s) {sorted(missing)}; has {list(table.columns)}")
    unknown = set(table.columns) - set(SAMPLE_COLUMNS)
    if unknown:
        raise SampleSheetError(f"sample sheet {str(sheet)!r} has unknown column(s) {sorted(unknown)}; allowed: {SAMPLE_COLUMNS}")
    for col in ("language", *FILE_COLUMNS):
        if col not in table.columns:
            table[col] = ""
    seen: dict[str, int] = {}
    paths, sources = [], []
    for i, row in table.iterrows():
        line = i + 2  # header is line 1
        sample = row["sample"].strip()
        where = f"sample sheet {str(sheet)!r} line {line}"
        if not sample:
            raise SampleSheetError(f"{where}: empty sample id")
        if slugify(sample) != sample:
            raise SampleSheetError(f"{where}: sample id {sample!r} is not safe; use letters, digits, '.', '-', '_' (e.g. {slugify(sample)!r})")
        if sample in seen:
            raise SampleSheetError(f"{where}: duplicate sample id {sample!r} (first on line {seen[sample]})")
        seen[sample] = line
        path = Path(row["path"])
        if not path.is_absolute():
            path = sheet.parent / path
        if not path.is_file():
            raise SampleSheetError(f"{where}: media file {str(path)!r} of sample {sample!r} does not exist")
        paths.append(str(path))
        sources.append(row["path"])
        for col, what in FILE_COLUMNS.items():
            given = row[col].strip()
            if given:
                file = Path(given) if Path(given).is_absolute() else sheet.parent / given
                if not file.is_file():
                    raise SampleSheetError(f"{where}: {what} {str(file)!r} of sample {sample!r} does not exist")
                table.at[i, col] = str(file)
    table["sample"] = table["sample"].str.strip()
    table["path"] = paths
    table["source"] = sources
    table = table.replace({"": None})
    return table[SAMPLE_COLUMNS + ["source"]].set_index("sample", drop=False)


# what the config's ``input`` takes, for the messages about it
INPUT_HELP = "input takes a folder of media, searched recursively, or a TSV sample sheet"
# names that say the missing input was meant as a sample sheet, not a folder
SHEET_SUFFIXES = frozenset({".tsv", ".txt", ".tab", ".csv"})


def input_problem(input_path: str | os.PathLike) -> str | None:
    """Why ``input`` cannot be used (it does not exist, or is a single media file), naming
    what it was taken for; None if it is a folder or a file to read as a sample sheet."""
    p = Path(input_path)
    if p.is_dir() or (p.is_file() and p.suffix.lower() not in MEDIA_EXTENSIONS):
        return None
    if p.is_file():
        return f"input {str(p)!r} is a single media file: {INPUT_HELP}; give its folder, or list it in a sample sheet"
    if p.suffix.lower() in SHEET_SUFFIXES:
        return f"sample sheet {str(p)!r} does not exist ({INPUT_HELP})"
    if p.suffix.lower() in MEDIA_EXTENSIONS:
        return f"input {str(p)!r} does not exist (and is named like a media file: {INPUT_HELP})"
    return f"input folder {str(p)!r} does not exist ({INPUT_HELP})"


def load_samples(input_path: str | os.PathLike) -> pd.DataFrame:
    """A folder is scanned; a file is read as a TSV sample sheet."""
    p = Path(input_path)
    problem = input_problem(p)
    if problem:
        raise SampleSheetError(problem)
    table = scan_folder(p) if p.is_dir() else read_sample_sheet(p)
    if table.empty:
        if p.is_dir():
            raise SampleSheetError(f"input folder {str(p)!r} holds no media files (extensions: {' '.join(sorted(MEDIA_EXTENSIONS))})")
        raise SampleSheetError(f"sample sheet {str(p)!r} lists no files (a header line, then one line per file)")
    return table
