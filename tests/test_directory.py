"""The README's `--directory` command: run from another folder, outputs under the given one,
the config found beside the Snakefile."""

import subprocess
import sys

from conftest import REPO


def test_directory_run_from_another_folder(tmp_path):
    elsewhere, run = tmp_path / "elsewhere", tmp_path / "run1"
    elsewhere.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--cores", "2",
         "--directory", str(run), "--config", f"input={REPO / 'example' / 'media'}"],
        cwd=elsewhere, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "weather" in (run / "results" / "transcripts" / "firescribe_demo.txt").read_text().lower()
    assert not (elsewhere / "results").exists()
