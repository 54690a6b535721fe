"""What a run prints: a quiet console, and the corpus summary as its last lines.

* ``quiet_console`` (the Snakefile's first lines): Snakemake's console keeps its progress
  (``3 of 9 steps (33%) done``), the job counts, warnings and errors (a failed job, with its
  log), and drops the job chatter: each job's description, its finish, the scheduler's
  steps, the run's header (a dry run keeps its list of jobs). The jobs' own consoles show warnings and errors only
  (``firescribe.plumbing.workflow.setup_logging``); every job's log under ``results/logs/`` keeps
  everything. ``snakemake --verbose`` shows it all, as Snakemake and the jobs print it.
* ``run_started`` / ``run_ended`` (the Snakefile's onstart, onsuccess and onerror; a run with
  nothing to do calls no hook, so ``quiet_console`` watches for Snakemake's line saying so):
  the summary of ``results/corpus.tsv`` (``firescribe.steps.corpus.summary``) is printed once, as
  the process exits, after Snakemake's own last lines, then where the results are. With
  ``strict: true`` a corpus with a failed input ends the run with exit status 1 there (an
  expected outcome: no traceback).
"""

from __future__ import annotations

import atexit
import datetime
import logging
import os
import re
import shlex
import shutil
import sys
import time

from firescribe.plumbing.outputs import TRANSCRIPTS

# the jobs' consoles (firescribe.plumbing.workflow.setup_logging): "1" with snakemake --verbose
VERBOSE_ENV = "FIRESCRIBE_VERBOSE"
TABLE = "results/corpus.tsv"

# Snakemake's own job chatter: its log events (snakemake_interface_logger_plugins.common.LogEvent
# values) and scheduler lines; progress, job counts, warnings and errors pass
_CHATTER_EVENTS = {"job_info", "group_info", "shellcmd", "job_finished", "workflow_started"}
_CHATTER_LINES = re.compile(
    r"(Select jobs to execute\.\.\.|Execute \d+ jobs\.\.\.|Updating checkpoint dependencies\."
    r"|DAG of jobs will be updated after completion\.|Assuming unrestricted shared filesystem usage\."
    r"|Using shell: .*|Provided cores: .*|Rules claiming more threads will be scaled down\."
    r"|Conda environments: ignored|Building DAG of jobs\.\.\.|Config file .* is extended by additional config specified via the command line\.)\s*",
    re.S,
)
_NOTHING_TO_DO = "Nothing to be done"

# "workdir": where the run's results are (Snakemake goes back to the shell's folder before
# the process exits, after a run with --directory)
_RUN: dict = {"started": None, "ended": None, "strict": False, "workdir": None}


def _event(record: logging.LogRecord) -> str | None:
    event = getattr(record, "event", None)
    return None if event is None else str(getattr(event, "value", event))


class _Console(logging.Filter):
    """On Snakemake's console handler: drops the job chatter (unless ``verbose``) and notices
    a real run (not a dry run, not a job of a cluster run) that had nothing to do."""

    def __init__(self, workflow, verbose: bool):
        super().__init__()
        self.workflow, self.verbose = workflow, verbose

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg if isinstance(record.msg, str) else ""
        if message.startswith(_NOTHING_TO_DO) and _is_main_run(self.workflow):
            run_ended(ok=True, nothing_to_do=True)
        if self.verbose or _is_dry_run(self.workflow):  # a dry run lists the jobs it would run
            return True
        return _event(record) not in _CHATTER_EVENTS and not _CHATTER_LINES.fullmatch(message)


def _is_main_run(workflow) -> bool:
    """The run a user started (not a dry run, not a job process of a cluster run)."""
    try:
        return bool(workflow.is_main_process and not workflow.dryrun)
    except AttributeError:  # another Snakemake: say nothing rather than something wrong
        return False


def _is_dry_run(workflow) -> bool:
    try:
        return bool(workflow.dryrun)
    except AttributeError:
        return False


def quiet_console(workflow) -> None:
    """Trim Snakemake's console to progress and problems (``snakemake --verbose``: all of it),
    tell the jobs whether to print their info lines, and watch for a run with nothing to do."""
    verbose = bool(getattr(getattr(workflow, "output_settings", None), "verbose", False))
    os.environ[VERBOSE_ENV] = "1" if verbose else "0"
    snakemake_logger = logging.getLogger("snakemake.logging")
    for handler in snakemake_logger.handlers:
        # Snakemake's own console handler (where a logger plugin writes the console instead,
        # nothing changes); the log file under .snakemake/log keeps everything
        if handler.name == "DefaultStreamHandler" and not any(isinstance(f, _Console) for f in handler.filters):
            handler.addFilter(_Console(workflow, verbose))


def set_strict(strict: bool) -> None:
    """The config's ``strict`` (rules/common.smk, as the Snakefile is read: a run with nothing
    to do calls no hook)."""
    _RUN["strict"] = strict


def run_started() -> None:
    """The Snakefile's onstart: when the run started (to tell this run's corpus table from one
    an earlier run left)."""
    _RUN["started"] = time.time()


def run_ended(ok: bool, nothing_to_do: bool = False) -> None:
    """The Snakefile's onsuccess and onerror, and a run with nothing to do: the summary, then
    where the results are, printed as the process exits (after Snakemake's last lines)."""
    if _RUN["ended"] is None:
        _RUN["ended"] = "nothing to do" if nothing_to_do else ("ok" if ok else "failed")
        _RUN["workdir"] = os.getcwd()
        atexit.register(_at_exit)


def _at_exit() -> None:
    text, failed = end_of_run_text(TABLE, _RUN["workdir"])
    print(text, file=sys.stderr, flush=True)
    if _RUN["strict"] and failed:
        # exit status 1, Snakemake having finished: flush what the process still holds
        logging.shutdown()
        sys.stdout.flush()
        os._exit(1)


def _shown(path: str, workdir: str | None = None) -> str:
    """``path`` (relative to the run's working directory, ``workdir``: by default the current
    one) as the user can open it from their shell."""
    workdir = workdir or os.getcwd()
    shell = os.environ.get("PWD")
    if shell and os.path.realpath(shell) != os.path.realpath(workdir):
        return os.path.join(workdir, path)
    return path


# what makes a report of the same run: its Snakefile, working directory, profile and config
# (option -> takes several values); the rest (cores, forced reruns, targets) is the run's own
_REPORT_OPTIONS = {
    "-s": False, "--snakefile": False, "-d": False, "--directory": False, "--profile": False,
    "--workflow-profile": False, "--configfile": True, "--configfiles": True, "--config": True, "-C": True,
}  # fmt: skip


def report_command(argv: list[str] | None = None, workdir: str | None = None) -> str:
    """The command that makes the HTML report of this run: the run's own command with only
    what selects the run (Snakefile, working directory, profile, config), then
    ``--report report.html``."""
    argv = list(sys.argv if argv is None else argv)
    prog = argv[0] if argv else "snakemake"
    if prog.endswith("__main__.py"):  # python -m snakemake
        head = [sys.executable, "-m", "snakemake"]
    else:
        found = shutil.which(os.path.basename(prog))
        same = found and os.path.realpath(found) == os.path.realpath(prog)
        head = [os.path.basename(prog) if same else prog]
    kept, keeping, several = [], False, False
    for arg in argv[1:]:
        if arg.startswith("-"):
            name = arg.split("=", 1)[0]
            keeping = name in _REPORT_OPTIONS
            several = keeping and "=" not in arg and _REPORT_OPTIONS[name]
            single = keeping and "=" not in arg and not _REPORT_OPTIONS[name]
            if keeping:
                kept.append(arg)
            keeping = several or single
            continue
        if keeping:
            kept.append(arg)
            keeping = several
    return shlex.join(head + kept + ["--report", _shown("report.html", workdir)])


def end_of_run_text(tsv: str = TABLE, workdir: str | None = None) -> tuple[str, int]:
    """The run's last lines and the number of failed inputs: the summary of the corpus table
    ``tsv`` (relative to ``workdir``, by default the current folder; saying so where an
    earlier run wrote it), strict's verdict, where the results are; or, where there is no
    table, that the run stopped before it."""
    import pandas as pd  # ~0.3 s, with the corpus table's module: only at the run's end

    from firescribe.steps.corpus import STATUS_FAILED, plural, summary

    workdir = workdir or os.getcwd()
    path = os.path.join(workdir, tsv)
    if not os.path.exists(path):
        return (
            f"firescribe: the run stopped before the corpus table ({_shown(tsv, workdir)}) was written: "
            f"the failed jobs are listed above, their logs are under {_shown('results/logs', workdir)}/",
            0,
        )
    table = pd.read_csv(path, sep="\t")
    table["reason"] = table["reason"].fillna("")
    lines = []
    written = os.path.getmtime(path)
    when = datetime.datetime.fromtimestamp(written).strftime("%Y-%m-%d %H:%M:%S")
    if _RUN["ended"] == "nothing to do":
        lines.append(f"firescribe: nothing to do; the corpus as of {when}:")
    elif _RUN["started"] is not None and written < _RUN["started"]:
        lines.append(f"firescribe: {tsv} was written by an earlier run ({when}); this run did not write it:")
    lines.append(summary(table))
    failed = int((table["status"] == STATUS_FAILED).sum())
    if _RUN["strict"] and failed:
        lines.append(f"firescribe: strict: {plural(failed, 'input')} failed, so the run fails (exit status 1)")
    lines.append(f"firescribe: results: {_shown(tsv, workdir)} (a row per input), {_shown(TRANSCRIPTS, workdir)}/ (the transcripts)")
    lines.append(f"firescribe: HTML report: {report_command(workdir=workdir)}")
    return "\n".join(lines), failed
