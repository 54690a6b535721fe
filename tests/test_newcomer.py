"""A newcomer's first hour: the README's set-up command as root without sudo and as a user
with sudo, a run that cannot work stopped before any job with one line per problem, a
boolean given on the command line as the docs write it, the corpus summary as the run's
last output, and a benchmark that needs code outside the project saying so."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.workflow import REPO, snakemake

EXAMPLE_MEDIA = REPO / "example" / "media" / "firescribe_demo.mp4"


# --- ./bootstrap.sh and the Makefile's apt step, with apt-get, sudo and id stubbed ---------

STUBS = {
    # records each call; "installs" make and python3-venv by making them appear
    "apt-get": """#!/bin/sh
echo "apt-get $*" >> "$LOG"
for p in "$@"; do
  case "$p" in
    make) printf '#!/bin/sh\\necho "make $*" >> "$LOG"\\n' > "$STUBS/make"; chmod +x "$STUBS/make" ;;
    python3-venv) : > "$STUBS/.venv-installed" ;;
  esac
done
""",
    "sudo": '#!/bin/sh\necho "sudo $*" >> "$LOG"\nexec "$@"\n',
    "id": '#!/bin/sh\necho "$FAKE_UID"\n',
    # a python3 whose ensurepip (python3-venv) is there once apt-get installed it
    "python3": """#!/bin/sh
case "$*" in
  *ensurepip*) [ -e "$STUBS/.venv-installed" ] ;;
  *) exit 0 ;;
esac
""",
}


def stubbed(tmp_path, uid: int, sudo: bool, have: tuple[str, ...] = ()) -> dict:
    """An environment whose PATH holds the stubs and only the real tools the scripts need."""
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name, text in STUBS.items():
        if name == "sudo" and not sudo:
            continue
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    for tool in ("env", "dirname", "chmod", *have):
        os.symlink(shutil.which(tool), stubs / tool)
    if "make" in have:
        (stubs / ".venv-installed").touch()
    return {"PATH": str(stubs), "LOG": str(tmp_path / "calls.log"), "STUBS": str(stubs), "FAKE_UID": str(uid), "HOME": str(tmp_path)}


def calls(env) -> list[str]:
    log = Path(env["LOG"])
    return log.read_text().splitlines() if log.exists() else []


def readme_first_command() -> str:
    block = re.search(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), re.S).group(1)
    return block.splitlines()[0].split("#")[0].strip()


def bootstrap(env) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/sh", str(REPO / "bootstrap.sh"), "demo"], env=env, capture_output=True, text=True)


def test_the_readme_starts_with_bootstrap():
    assert readme_first_command() == "./bootstrap.sh demo"
    assert os.access(REPO / "bootstrap.sh", os.X_OK)


@pytest.mark.parametrize(
    ("uid", "sudo", "expected_calls", "says"),
    [
        # root without sudo (a fresh container or VM): apt-get itself
        (0, False, ["apt-get update -qq", "apt-get install -y -qq make python3-venv", "make PY=python3 demo"], "(apt-get)"),
        # a user: through sudo (the stub records sudo's call and the apt-get it runs)
        (1000, True, [
            "sudo apt-get update -qq",
            "apt-get update -qq",
            "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq make python3-venv",
            "apt-get install -y -qq make python3-venv",
            "make PY=python3 demo",
        ], "(apt-get through sudo)"),
    ],
    ids=["root-without-sudo", "user-through-sudo"],
)  # fmt: skip
def test_bootstrap_installs_what_make_needs_then_runs_it(tmp_path, uid, sudo, expected_calls, says):
    env = stubbed(tmp_path, uid=uid, sudo=sudo)
    proc = bootstrap(env)
    assert proc.returncode == 0, proc.stderr
    assert calls(env) == expected_calls
    assert f"installing make python3-venv {says}" in proc.stdout


def test_bootstrap_as_a_user_without_sudo_says_what_to_install(tmp_path):
    env = stubbed(tmp_path, uid=1000, sudo=False)
    proc = bootstrap(env)
    assert proc.returncode == 1 and calls(env) == []
    assert "needs the Debian packages make python3-venv; run it as root, or install them" in proc.stderr


def test_bootstrap_with_everything_there_only_runs_make(tmp_path):
    env = stubbed(tmp_path, uid=1000, sudo=True, have=("make",))
    os.remove(Path(env["STUBS"]) / "make")
    Path(env["STUBS"], "make").write_text('#!/bin/sh\necho "make $*" >> "$LOG"\n')
    Path(env["STUBS"], "make").chmod(0o755)
    assert bootstrap(env).returncode == 0
    assert calls(env) == ["make PY=python3 demo"]


INSTALL = "apt-get install -y -qq ffmpeg espeak-ng sox"


@pytest.mark.parametrize("uid, sudo, expected", [
    (0, False, ["apt-get update -qq", INSTALL]),
    (1000, True, ["sudo apt-get update -qq", "apt-get update -qq",
                  f"sudo env DEBIAN_FRONTEND=noninteractive {INSTALL}", INSTALL]),
])
def test_make_installs_the_missing_debian_packages_with_or_without_sudo(tmp_path, uid, sudo, expected):
    env = stubbed(tmp_path, uid=uid, sudo=sudo, have=("make",))
    proc = subprocess.run(["make", "-s", "-C", str(REPO), "sysdeps"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "installing ffmpeg espeak-ng sox (missing: ffmpeg espeak-ng sox)" in proc.stdout
    assert calls(env) == expected


# --- the workflow as a newcomer runs it ------------------------------------------------

def test_a_missing_model_folder_stops_the_run_before_any_job(tmp_path):
    """No model folder: one line naming it, what is missing and the command that gets it
    (the folder given relative to the working directory, shown absolute as Snakemake runs
    elsewhere: --directory), and nothing run."""
    proc = snakemake(tmp_path, "--config", f"input={EXAMPLE_MEDIA.parent}", "backend=fireredasr-aed",
                     "punctuation={model_dir: models/FireRedPunc}", check=False)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.startswith("firescribe:")]
    assert lines == [
        f"firescribe: FireRedASR-AED model folder 'models/FireRedASR-AED-L' (fireredasr_aed.model_dir) does not exist; "
        f"get it with: {Path(sys.executable).parent}/firescribe download fireredasr-aed-l --dir {tmp_path}/models/FireRedASR-AED-L "
        "(or fireredasr2-aed; offline: copy the released model.pth.tar, cmvn.ark, dict.txt, train_bpe1000.model there)",
        f"firescribe: FireRedPunc model folder 'models/FireRedPunc' (punctuation.model_dir) does not exist; "
        f"get it with: {Path(sys.executable).parent}/firescribe download fireredpunc --dir {tmp_path}/models/FireRedPunc "
        "(offline: copy the released model.pth.tar, chinese-lert-base/, chinese-bert-wwm-ext_vocab.txt, out_dict there)",
        "firescribe: nothing was run.",
    ]
    assert "Traceback" not in proc.stderr and not (tmp_path / "results").exists()


def test_a_missing_input_says_it_is_a_folder_or_a_sample_sheet(tmp_path):
    for given, said in [("/data/videos", "input folder '/data/videos' does not exist"),
                        ("samples.tsv", "sample sheet 'samples.tsv' does not exist")]:
        proc = snakemake(tmp_path, "--config", f"input={given}", check=False)
        assert proc.returncode == 1 and f"firescribe: {said} (input takes a folder of media" in proc.stderr
        assert "cannot be read" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(("given", "meant"), [("langauge=zh", "language"), ("vad={treshold: 0.6}", "vad.threshold")])
def test_a_misspelt_option_stops_the_run_before_any_job(tmp_path, given, meant):
    """It was accepted silently (langauge) or ended in a TypeError traceback (treshold)."""
    proc = snakemake(tmp_path, "--config", f"input={EXAMPLE_MEDIA.parent}", given, check=False)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.startswith("firescribe:")]
    assert len(lines) == 2 and f"(did you mean {meant}?)" in lines[0] and "configuration.md" in lines[0]
    assert "Traceback" not in proc.stderr and not (tmp_path / "results").exists()


def last_lines(proc, n: int) -> list[str]:
    return proc.stderr.rstrip("\n").splitlines()[-n:]


SUMMARY_HEAD = r"firescribe: 3 inputs: 1 ok, 0 empty, 2 failed; [\d.]+ s audio, [\d.]+ s speech"
FAILED = ["  FAILED empty.mp4: empty file (0 bytes)", "  FAILED notes.mkv: not a readable media file (invalid data)"]
# shown absolute: the tests run Snakemake with --directory, away from the shell's folder
WHERE = "firescribe: results: {0}/results/corpus.tsv (a row per input), {0}/results/transcripts/ (the transcripts)"


@pytest.mark.slow
@pytest.mark.media_tools
def test_the_summary_is_printed_once_and_last_on_success_strict_and_with_nothing_to_do(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    shutil.copy(EXAMPLE_MEDIA, media / "demo.mp4")
    (media / "empty.mp4").write_bytes(b"")
    (media / "notes.mkv").write_text("not a video\n")
    work = tmp_path / "run"
    work.mkdir()
    ok = snakemake(work, "--config", f"input={media}")
    head, *failed, where, report = last_lines(ok, 5)
    assert re.fullmatch(SUMMARY_HEAD, head), ok.stderr[-3000:]
    assert failed == FAILED and where == WHERE.format(work) and ok.stderr.count("FAILED empty.mp4") == 1
    # a quiet console: progress and problems, not every job's description and info lines
    assert re.search(r"^\d+ of \d+ steps \(100%\) done$", ok.stderr, re.M)
    assert "not a readable media file" in ok.stderr.split(head)[0]  # the problem, as it happened
    for chatter in ("Shell command", "localrule", "jobid:", "INFO", "VAD filter removed"):
        assert chatter not in ok.stderr, chatter
    assert "VAD filter removed" in (work / "results" / "logs" / "asr" / "demo" / "0000.log").read_text()
    # the report command it prints makes the report
    command = report.removeprefix("firescribe: HTML report: ")
    made = subprocess.run(command, shell=True, cwd=work, capture_output=True, text=True)
    assert made.returncode == 0 and (work / "report.html").stat().st_size > 0, made.stderr[-3000:]
    # strict: true as the docs write it (it was "'true' is not of type 'boolean'"), with
    # nothing to do: the summary of the corpus as it is, and exit status 1 without a traceback
    strict = snakemake(work, "--config", f"input={media}", "strict=true", check=False)
    assert strict.returncode == 1 and "Traceback" not in strict.stderr, strict.stderr[-3000:]
    note, head2, *failed, verdict, where, _ = last_lines(strict, 7)
    assert note.startswith("firescribe: nothing to do; the corpus as of ") and head2 == head and failed == FAILED
    assert verdict == "firescribe: strict: 2 inputs failed, so the run fails (exit status 1)" and where == WHERE.format(work)
    # the same without strict: status 0; --verbose shows every job again
    again = snakemake(work, "--config", f"input={media}", "--verbose")
    assert again.returncode == 0 and last_lines(again, 5)[:4] == [head, *FAILED, WHERE.format(work)]
    assert again.stderr.count("firescribe: 3 inputs") == 1
    assert "Building DAG of jobs" in again.stderr and "Building DAG of jobs" not in ok.stderr
    # started from another folder (--directory): the table is found where the run wrote it
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(work), "--cores", "1",
           "--configfile", str(REPO / "config" / "config.yaml"), "--config", f"input={media}"]
    elsewhere = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PWD": str(tmp_path)})
    assert elsewhere.returncode == 0 and last_lines(elsewhere, 5)[:4] == [head, *FAILED, WHERE.format(work)], elsewhere.stderr[-2000:]
    forced = snakemake(work, "-n", "-F", "--config", f"input={media}", check=False)
    forced = forced.stdout + forced.stderr  # a dry run's output is on stdout
    assert "rule extract:" in forced  # a dry run lists the jobs it would run
    assert "firescribe: " not in forced  # a dry run has no summary


def test_the_run_end_says_where_its_table_came_from_and_strict_decides_the_status(tmp_path, monkeypatch):
    """firescribe.console.end_of_run_text (printed at exit after the Snakefile's onsuccess and
    onerror, or a run with nothing to do): a table this run wrote, one an earlier run left,
    none; with strict, the failed inputs make the status 1."""
    import time

    import pandas as pd

    from firescribe import console
    from firescribe.steps import corpus

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PWD", str(tmp_path))
    monkeypatch.setattr(console, "_RUN", {"started": None, "ended": "failed", "strict": False})
    tsv = "results/corpus.tsv"
    text, failed = console.end_of_run_text(tsv)
    assert text.startswith(f"firescribe: the run stopped before the corpus table ({tsv}) was written") and failed == 0
    rows = [{"sample": "a", "path": "a.mp4", "status": "ok", "reason": "", "duration_s": 10.0, "speech_s": 5.0},
            {"sample": "b", "path": "b.mp4", "status": "failed", "reason": "no audio stream", "duration_s": 0.0, "speech_s": 0.0}]
    os.makedirs("results")
    pd.DataFrame(rows, columns=corpus.COLUMNS + corpus.ACCURACY_COLUMNS).to_csv(tsv, sep="\t", index=False)
    text, failed = console.end_of_run_text(tsv)
    assert failed == 1 and text.splitlines()[:2] == [
        "firescribe: 2 inputs: 1 ok, 0 empty, 1 failed; 10.0 s audio, 5.0 s speech",
        "  FAILED b.mp4: no audio stream",
    ]
    assert text.splitlines()[-1].startswith("firescribe: HTML report: ")
    console.set_strict(True)
    console.run_started()  # a run that failed before writing the table
    lines = console.end_of_run_text(tsv)[0].splitlines()
    assert "earlier run" in lines[0] and "firescribe: strict: 1 input failed" in lines[3]
    os.utime(tsv, (time.time() + 5, time.time() + 5))  # written after the start: this run's
    assert console.end_of_run_text(tsv)[0].splitlines()[0].startswith("firescribe: 2 inputs:")


def test_the_report_command_is_the_runs_own(monkeypatch, tmp_path):
    """The run's Snakefile, folder, profile and config, without what only the run needs."""
    from firescribe.console import report_command

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PWD", str(tmp_path))
    argv = ["/nowhere/snakemake", "--cores", "all", "-s", "S", "--config", "input=a b", "strict=true", "-R", "corpus", "asr",
            "--configfile", "c.yaml", "my.yaml", "-F", "--directory=d", "all"]
    assert report_command(argv) == (
        "/nowhere/snakemake -s S --config 'input=a b' strict=true --configfile c.yaml my.yaml --directory=d --report report.html")
    assert report_command(["/x/snakemake/__main__.py", "--report", "old.html", "--report-after-run", "-j2"]) == (
        f"{sys.executable} -m snakemake --report report.html")


# --- the firescribe command ------------------------------------------------------------------

def firescribe(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "firescribe.cli", *args], capture_output=True, text=True, cwd=REPO)


def test_a_bare_firescribe_prints_its_help_listing_every_command():
    """It failed with "the following arguments are required: command"."""
    import argparse

    from firescribe.cli import parser

    (sub,) = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    bare, helped = firescribe(), firescribe("--help")
    assert bare.returncode == 0 and helped.returncode == 0 and bare.stdout == helped.stdout
    assert sub.choices and all(re.search(rf"^\s+{name}\s", bare.stdout, re.M) for name in sub.choices)


def test_firescribe_version_is_the_projects():
    import tomllib

    proc = firescribe("--version")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert proc.returncode == 0 and proc.stdout.split() == ["firescribe", project]
