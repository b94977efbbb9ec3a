"""Results folders that cannot destroy data.

Each case states a results folder that today's planner could give by mistake, or a disk that fails
under the writer, and checks the exit code, the exact one-line message, and that every file that
was there before is byte for byte the same afterwards (SHA-256 of every file, before and after).
The mount and full-disk cases mount a small tmpfs, so they run only as root (as in CI).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from siting.cli import main
from siting.report import folder as fo
from tests.reliability.base import write_base

NOTES = "the planner's own notes\n"


def hashes(top: Path) -> dict[str, str]:
    """SHA-256 of every file under ``top`` (hidden ones too), by path relative to it."""
    return {p.relative_to(top).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(top.rglob("*")) if p.is_file() and not p.is_symlink()}


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err.strip()


def _data_layout(tmp_path: Path) -> Path:
    """An instance whose tables live in ``data/`` (instance.yaml: ``tables: {sites: data/sites.csv}``)."""
    inst = write_base(tmp_path / "inst")
    (inst / "data").mkdir()
    spec = yaml.safe_load((inst / "instance.yaml").read_text())
    for name in list(spec["tables"]):
        (inst / name).with_suffix(".csv").rename(inst / "data" / f"{name}.csv")
        spec["tables"][name] = f"data/{name}.csv"
    (inst / "instance.yaml").write_text(yaml.safe_dump(spec))
    return inst


# --- folders the instance reads ------------------------------------------------------------------

def test_results_into_the_folder_of_the_tables_are_refused_and_the_tables_kept(tmp_path, capsys):
    inst = _data_layout(tmp_path)
    before = hashes(inst)
    code, err = run(capsys, "solve", str(inst), "--out", str(inst / "data"))
    assert code == 2
    assert err == (f"--out {inst / 'data'} | holds sites.csv, which this command reads; the results would "
                   "overwrite or remove it; write the results to another folder")
    assert hashes(inst) == before


@pytest.mark.parametrize("command", [["solve"], ["explain", "--site", "a"],
                                     ["sweep", "--param", "instruments.grant.rate=0,0.1", "--workers", "1"]])
def test_every_command_refuses_a_results_folder_holding_the_instance(tmp_path, capsys, command):
    inst = _data_layout(tmp_path)
    before = hashes(tmp_path)
    code, err = run(capsys, command[0], str(inst), *command[1:], "--out", str(inst))
    assert code == 2
    assert err == (f"--out {inst} | is an instance folder: its tables would be overwritten; "
                   "write the results to another folder")
    code, err = run(capsys, command[0], str(inst), *command[1:], "--out", str(tmp_path))
    assert code == 2
    assert err == (f"--out {tmp_path} | holds inst/instance.yaml, which this command reads; the results would "
                   "overwrite or remove it; write the results to another folder")
    assert hashes(tmp_path) == before


def test_compare_refuses_the_folder_of_its_designs_file(tmp_path, capsys):
    inst = write_base(tmp_path / "inst")
    designs = tmp_path / "policy" / "designs.yaml"
    designs.parent.mkdir()
    designs.write_text("packages:\n  small:\n    description: a smaller grant\n    set: [instruments.grant.rate=0.1]\n")
    before = hashes(tmp_path)
    code, err = run(capsys, "compare", str(inst), "--designs", str(designs), "--out", str(designs.parent))
    assert code == 2
    assert err == (f"--out {designs.parent} | holds designs.yaml, which this command reads; the results would "
                   "overwrite or remove it; write the results to another folder")
    assert hashes(tmp_path) == before


def test_a_results_folder_inside_the_instance_folder_is_allowed(tmp_path, capsys):
    """A stated choice: nothing the instance reads can be inside ``inst/results``, so it is allowed."""
    inst = write_base(tmp_path / "inst")
    before = hashes(inst)
    assert main(["solve", str(inst), "--out", str(inst / "results")]) == 0
    after = hashes(inst)
    assert {k: v for k, v in after.items() if not k.startswith("results/")} == before
    assert "results/manifest.json" in after


# --- roots, home and the working folder ----------------------------------------------------------

@pytest.mark.parametrize("where, problem", [
    ("/", "is the root of the file system"),
    ("HOME", "is your home folder"),
    ("CWD", "is the working folder"),
    ("CWD/..", "holds the working folder (CWD)"),
])
def test_roots_home_and_the_working_folder_are_refused(tmp_path, capsys, monkeypatch, where, problem):
    inst = write_base(tmp_path / "inst")
    home, cwd = tmp_path / "home", tmp_path / "home" / "work" / "plan"
    cwd.mkdir(parents=True)
    (cwd / "notes.txt").write_text(NOTES)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    out = where.replace("HOME", str(home)).replace("CWD", str(cwd))
    before = hashes(tmp_path)
    code, err = run(capsys, "solve", str(inst), "--out", out)
    assert code == 2
    assert err == (f"--out {out} | {problem.replace('CWD', str(cwd))}; give a folder of its own for the results, "
                   "e.g. --out results/NAME")
    assert hashes(tmp_path) == before


def test_a_folder_holding_the_home_folder_is_refused(tmp_path, capsys, monkeypatch):
    inst = write_base(tmp_path / "inst")
    monkeypatch.setenv("HOME", str(tmp_path / "users" / "me"))
    code, err = run(capsys, "solve", str(inst), "--out", str(tmp_path / "users"))
    assert code == 2
    assert err == (f"--out {tmp_path / 'users'} | holds your home folder ({tmp_path / 'users' / 'me'}); give a "
                   "folder of its own for the results, e.g. --out results/NAME")
    assert not (tmp_path / "users").exists()


# --- a disk that fails under the writer ----------------------------------------------------------

def _earlier_run(tmp_path: Path, command: list[str], out: Path) -> dict[str, str]:
    assert main([*command, "--out", str(out)]) == 0
    (out / "notes.txt").write_text(NOTES)
    return hashes(out)


def _commands(tmp_path: Path) -> dict[str, list[str]]:
    inst = write_base(tmp_path / "inst")
    designs = tmp_path / "designs.yaml"
    designs.write_text("packages:\n  small:\n    description: a smaller grant\n    set: [instruments.grant.rate=0.1]\n")
    return {"solve": ["solve", str(inst)], "explain": ["explain", str(inst), "--site", "a"],
            "compare": ["compare", str(inst), "--designs", str(designs)],
            "sweep": ["sweep", str(inst), "--param", "instruments.grant.rate=0,0.2", "--workers", "1"]}


@pytest.mark.parametrize("name", ["solve", "explain", "compare", "sweep"])
@pytest.mark.parametrize("swap", [True, False])
def test_a_failing_disk_leaves_the_previous_results_whole(tmp_path, capsys, monkeypatch, name, swap):
    """The third file written fails with ENOSPC (by the swap into the hidden folder, or in place):
    exit 2, one line, and every file of the earlier run the same as before."""
    command = _commands(tmp_path)[name]
    out = tmp_path / "out"
    before = _earlier_run(tmp_path, command, out)
    if not swap:
        monkeypatch.setattr(fo, "swap_available", lambda out: False)
    real_put, count = fo._put, [0]

    def failing(fh, text):
        count[0] += 1
        if count[0] == 3:
            raise OSError(28, "No space left on device")
        real_put(fh, text)

    monkeypatch.setattr(fo, "_put", failing)
    rerun = [*command, "--out", str(out)]
    if name == "sweep":
        rerun += ["--refine", "0.01"]  # the same sweep, with its last step written again
    elif name == "solve":
        rerun += ["--set", "sites.b.fixed_cost=20"]
    code, err = run(capsys, *rerun)
    assert code == 2, err
    assert err.splitlines()[-1] == (f"--out {out} | cannot write there (No space left on device); the previous "
                                    "results in it are left as they were; free some disk space or choose "
                                    "another folder")
    assert hashes(out) == before
    assert not [p for p in tmp_path.iterdir() if ".siting-" in p.name]


def test_too_little_free_space_is_refused_before_writing(tmp_path, capsys, monkeypatch):
    command = _commands(tmp_path)["solve"]
    out = tmp_path / "out"
    before = _earlier_run(tmp_path, command, out)

    class Full:
        f_frsize = f_bsize = 4096
        f_bavail = 10
        f_files = f_favail = 1000

    monkeypatch.setattr(fo.os, "statvfs", lambda p: Full)
    code, err = run(capsys, *command, "--out", str(out), "--set", "sites.b.fixed_cost=20")
    assert code == 2
    assert err.startswith(f"--out {out} | needs ")
    assert err.endswith("and the disk has 41.0 kB free; nothing was written; free some disk space or choose "
                        "another folder")
    assert hashes(out) == before


def test_files_get_the_users_umask(tmp_path):
    inst = write_base(tmp_path / "inst")
    old = os.umask(0o027)
    try:
        assert main(["solve", str(inst), "--out", str(tmp_path / "a")]) == 0
        with_swap = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "a").iterdir()}
    finally:
        os.umask(old)
    assert set(with_swap.values()) == {0o640}, with_swap
    # in place (a writer without the swap) and the sweep's cases too
    old = os.umask(0o022)
    try:
        fo._write_in_place(tmp_path / "a", {"x.csv": "1\n", "manifest.json": "{}\n"}, lambda n: False)
        fo.atomic_write(tmp_path / "a" / "y.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "a" / "x.csv").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "a" / "y.json").stat().st_mode & 0o777 == 0o644


def test_a_killed_runs_hidden_files_are_removed_at_the_next_start_and_only_those(tmp_path):
    """Hidden folders and files of a run whose process is gone are removed; those of a live process,
    and look-alikes that are not ours, stay."""
    inst = write_base(tmp_path / "inst")
    out = tmp_path / "out"
    assert main(["solve", str(inst), "--out", str(out)]) == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale_dir = tmp_path / f".out.siting-{dead}-abc123"
    (stale_dir / "inner").mkdir(parents=True)
    (stale_dir / "inner" / "sites.csv").write_text("x")
    stale_file = out / f".sites.csv.siting-{dead}-q1w2e3"
    stale_file.write_text("half")
    live = tmp_path / f".out.siting-{os.getppid()}-zzz"
    live.mkdir()
    mine = tmp_path / ".out.backup"  # the planner's, not ours
    mine.mkdir()
    assert main(["solve", str(inst), "--out", str(out), "--set", "sites.b.fixed_cost=20"]) == 0
    assert not stale_dir.exists() and not stale_file.exists()
    assert live.is_dir() and mine.is_dir()


# --- a file system mounted inside, or as, the results folder (root only) -------------------------

ROOT = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or not sys.platform.startswith("linux"),
                          reason="mounts a tmpfs: needs root on Linux")


@contextlib.contextmanager
def tmpfs(where: Path, size: str):
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@ROOT
def test_a_results_folder_holding_a_mount_point_is_refused_and_the_mount_untouched(tmp_path, capsys):
    inst = write_base(tmp_path / "inst")
    out = tmp_path / "out"
    assert main(["solve", str(inst), "--out", str(out)]) == 0
    with tmpfs(out / "shared", "1m") as mnt:
        (mnt / "precious.txt").write_text("on another file system\n")
        before = hashes(out)
        code, err = run(capsys, "solve", str(inst), "--out", str(out), "--set", "sites.b.fixed_cost=20")
        assert code == 2
        assert err == (f"--out {out} | holds a mount point ({mnt}); a results folder is replaced whole and another "
                       "file system inside it is never touched; unmount it, or choose another folder for the results")
        assert hashes(out) == before


@ROOT
def test_removal_never_crosses_a_mount_point(tmp_path):
    top = tmp_path / ".out.siting-1-x"
    (top / "a").mkdir(parents=True)
    (top / "a" / "f.csv").write_text("1")
    with tmpfs(top / "a" / "m", "1m") as mnt:
        (mnt / "precious.txt").write_text("kept\n")
        fo.remove_tree(top)
        assert (mnt / "precious.txt").read_text() == "kept\n"
        assert not (top / "a" / "f.csv").exists()


@ROOT
@pytest.mark.parametrize("as_mount", [False, True])
def test_a_full_disk_leaves_the_previous_results_whole(tmp_path, capsys, as_mount):
    """A real full disk: a 4 MB tmpfs holds the first run; a file of the planner's then fills it
    but for half a run. ``as_mount``: the results folder is the mount point itself (no swap: every
    file written first, then renamed); else a folder on it (the swap)."""
    inst = write_base(tmp_path / "inst")
    with tmpfs(tmp_path / "disk", "4m") as disk:
        out = disk if as_mount else disk / "out"
        assert main(["solve", str(inst), "--out", str(out)]) == 0
        assert fo.swap_available(out) is not as_mount
        run_size = sum(p.stat().st_size for p in out.iterdir())
        fs = os.statvfs(disk)
        (out / "filler.bin").write_bytes(b"\0" * (fs.f_bavail * fs.f_frsize - run_size // 2))
        before = hashes(out)
        code, err = run(capsys, "solve", str(inst), "--out", str(out), "--set", "sites.b.fixed_cost=20")
        assert code == 2
        assert err.startswith(f"--out {out} | needs ")
        assert err.endswith("nothing was written; free some disk space or choose another folder")
        assert hashes(out) == before
        # the estimate missed (space taken between the check and the write): the writer fails on
        # ENOSPC and still leaves the previous run whole
        fo.SPACE_MARGIN, margin = -(1 << 30), fo.SPACE_MARGIN
        try:
            code, err = run(capsys, "solve", str(inst), "--out", str(out), "--set", "sites.b.fixed_cost=20")
        finally:
            fo.SPACE_MARGIN = margin
        assert code == 2
        assert err == (f"--out {out} | cannot write there (No space left on device); the previous results in it "
                       "are left as they were; free some disk space or choose another folder")
        assert hashes(out) == before
        assert json.loads((out / "manifest.json").read_text())["overrides"] == []
        assert not [p for p in disk.iterdir() if ".siting-" in p.name]


def test_a_disk_that_fills_during_a_sweep_keeps_the_cases_saved(tmp_path, capsys, monkeypatch):
    """The third case cannot be saved: exit 2, one line naming it, the two saved cases kept whole and
    no manifest (the sweep is visibly unfinished); the same command then finishes it."""
    from siting.analysis import sweep as sw

    inst = write_base(tmp_path / "inst")
    out = tmp_path / "s"
    real, count = sw.atomic_write, [0]

    def failing(path, content):
        if path.parent.name == "cases":
            count[0] += 1
            if count[0] == 3:
                raise OSError(28, "No space left on device")
        real(path, content)

    monkeypatch.setattr(sw, "atomic_write", failing)
    command = ["sweep", str(inst), "--param", "instruments.grant.rate=0,0.1,0.2,0.3", "--workers", "1",
               "--out", str(out)]
    code, err = run(capsys, *command)
    assert code == 2
    assert err == (f"--out {out} | cannot save case c0003 (No space left on device); the cases saved so far (2) "
                   "are kept; free some disk space and run the same command again")
    assert sorted(p.name for p in (out / "cases").iterdir()) == ["c0001.json", "c0002.json"]
    assert not (out / "manifest.json").exists()
    saved = hashes(out / "cases")
    monkeypatch.setattr(sw, "atomic_write", real)
    assert main(command) == 0
    assert {k: v for k, v in hashes(out / "cases").items() if k in saved} == saved
