"""A solve killed at any moment leaves its results folder holding one whole run: the previous or the new.

A folder holds a previous complete result (and a file of the planner's own). ``siting solve`` runs again
into it with a changed parameter, in a subprocess, and is sent SIGKILL at chosen moments: while it loads
and solves, as soon as it starts writing, between the files it writes, and just after the new folder is
swapped in. ``SITING_TEST_WRITE_PAUSE`` makes the writer pause after each step so that a kill lands
inside the write phase. Afterwards the folder must be exactly the previous result, or a new result whose
manifest lists every file with its hash; never a mix, and the planner's file is always there.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from siting.cli import main
from siting.report.write import PAUSE_VARIABLE, swap_available
from tests.reliability.base import write_base

PAUSE = 0.05  # seconds after each file written, after the swap
CHANGE = "sites.b.fixed_cost=20"  # b is the site that opens: sites.csv and costs.csv change
NOTES = "the planner's own notes\n"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _check_whole(folder: Path, previous: dict[str, bytes]) -> str:
    """'previous' or 'new', after checking that the folder holds one whole run."""
    files = _snapshot(folder)
    assert files.pop("notes.txt") == NOTES.encode()
    manifest = json.loads(files["manifest.json"])
    assert set(files) == set(manifest["files"]), "files of two runs, or a file missing"
    for name, digest in manifest["sha256"].items():
        assert hashlib.sha256(files[name]).hexdigest() == digest, f"{name} does not match the manifest"
    if manifest["overrides"] == [CHANGE]:
        return "new"
    assert {**files, "notes.txt": NOTES.encode()} == previous
    return "previous"


def _staging(folder: Path) -> list[Path]:
    return [p for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}.siting-")]


def _stamps(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def _writing(folder: Path, stamps: dict[str, int]) -> bool:
    """Whether the run has started to write: its hidden folder exists, or (a writer without the swap)
    a file in the results folder was added or changed."""
    try:
        return bool(_staging(folder)) or _stamps(folder) != stamps
    except FileNotFoundError:  # a file moved while being listed: writing has started
        return True


def _trial(inst: Path, folder: Path, moment: str, seed: int) -> str:
    """Run the solve into ``folder`` and kill it at ``moment`` (random within it, from ``seed``)."""
    rng = random.Random(seed)
    before = (folder / "manifest.json").read_bytes()
    stamps = _stamps(folder)
    steps = len(json.loads(before)["files"])  # one pause after each file
    env = {**os.environ, PAUSE_VARIABLE: str(PAUSE)}
    command = [sys.executable, "-m", "siting.cli", "solve", str(inst), "--out", str(folder), "--set", CHANGE]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        if moment == "early":  # while Python starts, reads the instance or solves
            time.sleep(rng.uniform(0.0, 1.0))
        elif moment in ("writing", "between_files"):
            while not _writing(folder, stamps) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.001)
            if moment == "between_files":
                time.sleep(rng.uniform(0.0, steps * PAUSE))
        elif moment == "after_swap":  # the new folder is in place, the old one not yet deleted
            while (folder / "manifest.json").read_bytes() == before and proc.poll() is None \
                    and time.monotonic() < deadline:
                time.sleep(0.001)
        if moment != "never":
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if moment == "never":
        assert proc.returncode == 0
    return moment


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the atomic folder swap needs Linux renameat2")
def test_a_killed_solve_leaves_the_previous_or_the_new_results(tmp_path):
    inst = write_base(tmp_path / "inst")
    first = tmp_path / "first"
    assert main(["solve", str(inst), "--out", str(first)]) == 0
    (first / "notes.txt").write_text(NOTES)
    previous = _snapshot(first)
    assert swap_available(first)

    moments = ["early", "writing", "between_files", "between_files", "between_files", "after_swap", "never"]
    folders = []
    for n, _ in enumerate(moments):
        folder = tmp_path / f"out{n}"
        shutil.copytree(first, folder)
        folders.append(folder)
    with ThreadPoolExecutor(max_workers=3) as pool:
        done = list(pool.map(lambda job: _trial(inst, job[1], job[0], seed=job[2]),
                             [(moment, folder, n) for n, (moment, folder) in enumerate(zip(moments, folders))]))
    assert done == moments
    held = {moment: [] for moment in moments}
    for moment, folder in zip(moments, folders):
        held[moment].append(_check_whole(folder, previous))
    # killed before the swap: the previous run whole; after it, or not killed: the new run whole
    assert held["writing"] == ["previous"]
    assert held["after_swap"] == ["new"] and held["never"] == ["new"]
    assert held["between_files"] and all(h in ("previous", "new") for h in held["between_files"])

    # a run killed while writing leaves its hidden folder beside the results; the next run into the
    # same place removes it
    killed = folders[moments.index("writing")]
    assert _staging(killed)
    assert main(["solve", str(inst), "--out", str(killed)]) == 0
    assert not _staging(killed)
    assert (killed / "notes.txt").read_text() == NOTES


def test_without_the_swap_files_are_replaced_one_by_one(tmp_path, monkeypatch):
    """Where the swap is not available, each file is moved into place whole and the manifest comes last:
    after a feasible run then an infeasible one, the tables are gone, the planner's file stays, and the
    manifest matches the files."""
    monkeypatch.setattr("siting.report.write.swap_available", lambda out: False)
    inst = write_base(tmp_path / "inst")
    out = tmp_path / "out"
    assert main(["solve", str(inst), "--out", str(out)]) == 0
    (out / "notes.txt").write_text(NOTES)
    assert (out / "sites.csv").exists()
    assert main(["solve", str(inst), "--out", str(out), "--set", "settings.firm_budget=1"]) == 3
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "notes.txt", "report.html", "summary.json"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sha256"]["summary.json"] == hashlib.sha256((out / "summary.json").read_bytes()).hexdigest()
    assert not _staging(out)
