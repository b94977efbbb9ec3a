"""Signals, workers and commands refused before they write.

SIGTERM is handled like Ctrl-C (SIGINT) by every command: exit 143 (130 for SIGINT), one line on
standard error and nothing else (no traceback from the command or its workers), workers stopped,
nothing half-written, and the files that hand the workers their shared data removed. The signals
go to real subprocesses, as a terminal or a process manager sends them.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from siting.cli import machine_cores, main
from siting.report.write import PAUSE_VARIABLE
from tests.reliability.base import write_base

PROC = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")


def _running_in_group(group: int) -> list[int]:
    """Processes of a process group that are still running (a finished one waiting to be reaped is not)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _cases(out: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (out / "cases").glob("c*.json")}


def _hashes(top: Path) -> dict[str, str]:
    return {p.relative_to(top).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(top.rglob("*")) if p.is_file()}


@PROC
@pytest.mark.parametrize("to_group", [True, False])
def test_sigterm_stops_a_parallel_sweep_quietly_and_removes_its_files(tmp_path, to_group):
    """SIGTERM to the whole process group (a process manager) or to the command alone (``kill PID``)
    mid-sweep: exit 143, the one line, no worker left, no setup file left in the temporary folder,
    no case written after the stop; the same command then solves only the rest."""
    inst = write_base(tmp_path / "inst")
    out, tmp = tmp_path / "s", tmp_path / "tmp"
    tmp.mkdir()
    cmd = [sys.executable, "-m", "siting.cli", "sweep", str(inst), "--param", "instruments.grant.rate=0:0.6:0.01",
           "--workers", "2", "--out", str(out)]
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=env)
    deadline = time.monotonic() + 60
    while not list((out / "cases").glob("c*.json")) and time.monotonic() < deadline:
        time.sleep(0.01)
    if to_group:
        os.killpg(proc.pid, signal.SIGTERM)
    else:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    saved = _cases(out)
    total = 61
    assert 0 < len(saved) < total, "the signal came too late to test anything"
    assert err.strip() == (f"interrupted | {len(saved)} of {total} cases are saved in {out}/cases; "
                           "run the same command again to solve the rest")
    deadline = time.monotonic() + 10
    while _running_in_group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _running_in_group(proc.pid) == [], "a worker outlived the sweep"
    assert list(tmp.iterdir()) == [], "a file handed to the workers was left behind"
    assert not list((out / "cases").glob(".*")), "a half-written case"
    time.sleep(0.3)
    assert _cases(out) == saved, "a case was written after the sweep stopped"
    again = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert again.returncode == 0, again.stderr
    assert f"{len(saved)} already solved in {out}/, {total - len(saved)} to solve" in again.stdout


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_while_a_solve_writes_leaves_the_previous_results(tmp_path, sig, code):
    """The signal lands while the results are being written (the writer pauses after each file):
    the exit code says which signal, one line says so, the folder holds the previous run whole and
    no hidden folder is left beside it."""
    inst = write_base(tmp_path / "inst")
    out = tmp_path / "out"
    assert main(["solve", str(inst), "--out", str(out)]) == 0
    before = _hashes(out)
    env = {**os.environ, PAUSE_VARIABLE: "0.5"}
    cmd = [sys.executable, "-m", "siting.cli", "solve", str(inst), "--out", str(out), "--set", "sites.b.fixed_cost=20"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while not [p for p in tmp_path.iterdir() if p.name.startswith(".out.siting-")] and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    name = signal.Signals(sig).name
    assert err.strip() == (f"interrupted | stopped by {name}; nothing half-written was left behind; "
                           "run the command again")
    assert _hashes(out) == before
    assert not [p for p in tmp_path.iterdir() if ".siting-" in p.name]


def test_setup_files_of_killed_commands_are_removed_at_the_next_start(tmp_path, monkeypatch):
    """A setup file whose process is gone is removed when workers next start; one of a running process stays."""
    from siting.analysis.parallel import SETUP_PREFIX, Workers

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f"{SETUP_PREFIX}{dead}-abc.pickle"
    live = tmp_path / f"{SETUP_PREFIX}{os.getppid()}-abc.pickle"
    other = tmp_path / "siting-setup-notes.pickle"
    for p in (stale, live, other):
        p.write_bytes(b"x")
    with Workers(2) as pool:
        assert pool.parallel
    assert not stale.exists() and live.exists() and other.exists()


# --- refused before anything is solved or written ------------------------------------------------

@pytest.mark.parametrize("address, problem", [
    ("10.0.0.5", "has no port"),
    ("tcp://10.0.0.5", "has no port"),
    ("tcp://10.0.0.5:http", "has a port that is not a number from 1 to 65535"),
    ("tcp://:8786", "has no host"),
    ("http://10.0.0.5:8786", "has an unknown protocol 'http'"),
])
def test_a_bad_scheduler_address_is_refused_before_anything_is_written(tmp_path, capsys, address, problem):
    inst = write_base(tmp_path / "inst")
    out = tmp_path / "s"
    code = main(["sweep", str(inst), "--param", "instruments.grant.rate=0,0.1", "--scheduler", address,
                 "--out", str(out)])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        f"--scheduler {address} | {problem}; write it as tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786 "
        "(the address `dask scheduler` prints)")
    assert not out.exists()


def test_an_unreachable_scheduler_is_refused_before_anything_is_written(tmp_path, capsys):
    pytest.importorskip("distributed")
    inst = write_base(tmp_path / "inst")
    out = tmp_path / "s"
    code = main(["sweep", str(inst), "--param", "instruments.grant.rate=0,0.1", "--scheduler", "tcp://127.0.0.1:9",
                 "--out", str(out)])
    assert code == 2
    assert capsys.readouterr().err.startswith("--scheduler tcp://127.0.0.1:9 | cannot reach the scheduler")
    assert not out.exists()


@pytest.mark.parametrize("command", [["solve", "--threads"], ["sweep", "--param", "instruments.grant.rate=0,0.1",
                                                               "--workers"], ["compare", "--designs", "d.yaml",
                                                                              "--workers"]])
def test_threads_and_workers_are_bounded_by_the_cores(tmp_path, capsys, command):
    inst = write_base(tmp_path / "inst")
    cores = machine_cores()
    flag = command[-1]
    out = tmp_path / "out"
    code = main([command[0], str(inst), *command[1:], "100000", "--out", str(out)])
    assert code == 2
    what = "threads" if flag == "--threads" else "worker processes"
    low = 0 if flag == "--threads" else 1
    assert capsys.readouterr().err.strip() == (
        f"{flag} | is 100000, more {what} than this machine's {cores} cores; give {low} to {cores}")
    assert not out.exists()


def test_the_bounds_allow_every_core(tmp_path):
    inst = write_base(tmp_path / "inst")
    out = tmp_path / "out"
    assert main(["solve", str(inst), "--threads", str(machine_cores()), "--out", str(out)]) == 0
    assert json.loads((out / "summary.json").read_text())["solver"]["options"]["threads"] == machine_cores()
