"""A throwaway single-node Slurm cluster (Debian slurm-wlm + munge) for tests.

Everything lives under one temporary folder: munge key and socket, slurm.conf, state and
spool folders, logs. The daemons run in the foreground as children of the test and are
stopped (and waited for) on exit, so nothing is left running.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue")


def missing_tools() -> list[str]:
    return [t for t in DAEMONS if shutil.which(t) is None]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, what: str, log: Path, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.3)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
    raise RuntimeError(f"{what} did not come up in {timeout:.0f} s; log {log}:\n{tail}")


def slurm_conf(root: Path, host: str, cpus: int, mem_mb: int, munge_socket: Path) -> str:
    return "\n".join(
        [
            "ClusterName=firescribe-test",
            f"SlurmctldHost={host}",
            "SlurmUser=root",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={munge_socket}",
            "MpiDefault=none",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "ReturnToService=2",
            "SchedulerType=sched/backfill",
            f"StateSaveLocation={root / 'state'}",
            f"SlurmdSpoolDir={root / 'spool'}",
            f"SlurmctldPidFile={root / 'slurmctld.pid'}",
            f"SlurmdPidFile={root / 'slurmd.pid'}",
            f"SlurmctldLogFile={root / 'slurmctld.log'}",
            f"SlurmdLogFile={root / 'slurmd.log'}",
            f"NodeName={host} CPUs={cpus} RealMemory={mem_mb} State=UNKNOWN",
            f"PartitionName=main Nodes={host} Default=YES MaxTime=INFINITE State=UP",
            "",
        ]
    )


@contextlib.contextmanager
def single_node_cluster(root: Path) -> Iterator[dict[str, str]]:
    """Start munged, slurmctld and slurmd; yield the environment that points Slurm's
    commands at this cluster (SLURM_CONF); stop all three on exit."""
    root.mkdir(parents=True, exist_ok=True)
    for d in ("state", "spool", "munge"):
        (root / d).mkdir(exist_ok=True)
    os.chmod(root / "munge", 0o700)
    key = root / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    os.chmod(key, 0o400)
    munge_socket = root / "munge" / "munge.socket"
    host = socket.gethostname().split(".")[0]
    mem_mb = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20 * 0.8)
    conf = root / "slurm.conf"
    conf.write_text(slurm_conf(root, host, os.cpu_count() or 1, mem_mb, munge_socket))
    # snakemake-executor-plugin-slurm-jobstep drops every SLURM_* variable (SLURM_CONF too)
    # from the environment of the srun it runs inside each job, so srun would look for
    # /etc/slurm/slurm.conf. An srun first on PATH that sets SLURM_CONF again keeps this
    # cluster's config without touching /etc (a site with its config in /etc needs nothing).
    shim = root / "bin" / "srun"
    shim.parent.mkdir(exist_ok=True)
    shim.write_text(f'#!/bin/sh\nSLURM_CONF="{conf}" exec {shutil.which("srun")} "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "SLURM_CONF": str(conf), "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}"}

    procs: list[subprocess.Popen] = []
    try:
        munge_log = root / "munged.log"
        procs.append(
            subprocess.Popen(
                ["munged", "-F", "--force", f"--key-file={key}", f"--socket={munge_socket}",
                 f"--pid-file={root / 'munge' / 'munged.pid'}", f"--log-file={munge_log}",
                 f"--seed-file={root / 'munge' / 'munged.seed'}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            )
        )
        _wait(munge_socket.exists, "munged", munge_log)
        procs.append(subprocess.Popen(["slurmctld", "-D", "-i", "-f", str(conf)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        procs.append(subprocess.Popen(["slurmd", "-D", "-f", str(conf)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))

        def node_idle() -> bool:
            out = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True)
            return out.returncode == 0 and out.stdout.strip() == "idle"

        _wait(node_idle, "the Slurm node", root / "slurmd.log", timeout=60)
        yield env
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
