"""Results folders that cannot destroy data: where results may go, and how a folder is replaced.

Every command that writes results (``solve``, ``sweep``, ``compare``, ``explain``, ``frontier``)
hands the whole content of its folder to :func:`write_folder`, which writes every file before it
moves any into place:

* **The swap** (Linux): the new files are written into a hidden folder beside the results folder
  (``.NAME.siting-PID-XXXX``), together with hard links to the entries of the old folder that are
  not results of ours (a planner's own notes, a sweep's ``cases/``); the two folders are then
  exchanged in one step (``renameat2`` with ``RENAME_EXCHANGE``) and the old one is removed. A run
  killed at any moment leaves the previous results or the new ones, plus at worst a hidden folder
  that the next run into the same place removes.
* **In place**, where the swap is not available (another operating system, a file system that
  refuses it, a results folder that is a mount point, a parent folder that is not writable): every
  file is first written to a hidden temporary name inside the folder; only when all are written is
  the old ``manifest.json`` removed, each file renamed into place and the new manifest renamed
  last. A failure while writing leaves the previous run whole; a kill between the renames leaves a
  folder without ``manifest.json``, visibly incomplete.

Before anything is written the free space is checked against the size of the files (known
exactly: they are made in memory first). Any ``OSError`` (a full disk, a read-only file system, a
permission) removes what this run wrote and becomes one line with exit 2; the previous run is left
whole. Files get the user's umask. Removal never crosses a mount point, and a results folder that
holds one is refused: a file system mounted inside a results folder is never touched.

:func:`check_out_dir` refuses, before any solve, a results folder that would overwrite or remove
what it must not: a file, the file system root, the home folder or a folder holding it, the
working folder or a folder holding it, a folder holding any file the instance reads (its
``instance.yaml``, tables, layers, workbook, a designs file), an instance folder, and a folder
holding a mount point.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import logging
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from siting.errors import InputError, Problem

log = logging.getLogger(__name__)

#: Testing aid: seconds to pause after each step of writing the results (unset in normal use), so
#: that a test can kill a run in the middle of writing.
PAUSE_VARIABLE = "SITING_TEST_WRITE_PAUSE"

#: Bytes kept free beyond the files themselves (the file system's own bookkeeping, the manifest
#: of a concurrent run): a write that would leave less is refused before it starts.
SPACE_MARGIN = 1 << 20

#: The marker in every hidden name this module makes: ``.NAME.siting-PID-XXXX``.
_TAG = ".siting-"
_TEMP_NAME = re.compile(r"^\..+\.siting-(\d+)-[A-Za-z0-9_]+$")


def _pause() -> None:
    pause = os.environ.get(PAUSE_VARIABLE)
    if pause:
        time.sleep(float(pause))


# --- where results may go ------------------------------------------------------------------------

#: The workbook a run writes with ``--xlsx``: a results folder may hold it (its manifest lists it).
RESULTS_WORKBOOK = "results.xlsx"


def _listed(out: Path, name: str) -> bool:
    """Whether the ``manifest.json`` of ``out`` lists ``name`` among the files a run wrote there."""
    try:
        files = json.loads((out / "manifest.json").read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(files, list) and name in files


def check_out_dir(out: Path, reads: Iterable[Path] = ()) -> Path:
    """Make sure results can go to ``out`` without creating anything yet.

    Parameters
    ----------
    out
        The results folder the planner gave (or the default one).
    reads
        Every file the command reads (``RawInstance.inputs``, a designs file): ``out`` must not
        be, or hold, a folder holding one of them. A results folder *inside* such a folder (e.g.
        ``inst/results``) is allowed: nothing the instance reads can be in it.

    Raises
    ------
    InputError
        One line saying why ``out`` is refused.
    """
    out = Path(out)
    where = f"--out {out}"
    if out.exists() and not out.is_dir():
        raise InputError(Problem(where, "is a file, not a folder", "choose a folder for the results"))
    real = out.resolve()
    fix = "give a folder of its own for the results, e.g. --out results/NAME"
    if real == Path(real.anchor):
        raise InputError(Problem(where, "is the root of the file system", fix))
    home = Path.home().resolve()
    if real == home:
        raise InputError(Problem(where, "is your home folder", fix))
    if real in home.parents:
        raise InputError(Problem(where, f"holds your home folder ({home})", fix))
    cwd = Path.cwd().resolve()
    if real == cwd:
        raise InputError(Problem(where, "is the working folder", fix))
    if real in cwd.parents:
        raise InputError(Problem(where, f"holds the working folder ({cwd})", fix))
    if out.is_dir() and (any((out / n).is_file() for n in ("instance.yaml", "instance.yml"))
                         or any(p.name != RESULTS_WORKBOOK or not _listed(out, p.name) for p in out.glob("*.xlsx"))):
        raise InputError(Problem(where, "is an instance folder: its tables would be overwritten",
                                 "write the results to another folder"))
    for f in reads:
        f = Path(f).resolve()
        if f == real or real in f.parents:
            shown = f.relative_to(real).as_posix() if f != real else f.name
            raise InputError(Problem(where, f"holds {shown}, which this command reads; the results would "
                                            "overwrite or remove it", "write the results to another folder"))
    if out.is_dir():
        inside = mounts_inside(real)
        if inside:
            raise InputError(Problem(where, f"holds a mount point ({inside[0]}); a results folder is replaced "
                                            "whole and another file system inside it is never touched",
                                     "unmount it, or choose another folder for the results"))
    parent = real
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise InputError(Problem(where, f"cannot write there ({parent} is not writable)",
                                 "choose a folder you can write to"))
    return out


def _mount_table() -> list[Path] | None:
    """Every mount point of this machine (Linux's ``/proc/self/mountinfo``), or None elsewhere."""
    try:
        text = Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return None
    points = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) > 4:
            # spaces, tabs, newlines and backslashes in a mount point are written as octal escapes
            points.append(Path(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])))
    return points


def mounts_inside(real: Path) -> list[Path]:
    """Mount points strictly inside the folder ``real`` (resolved): from the mount table where the
    system has one (bind mounts included), else where a sub-folder's device differs."""
    table = _mount_table()
    if table is not None:
        return sorted(p for p in table if real in p.parents)
    found = []
    try:
        top = os.lstat(real).st_dev
    except OSError:
        return []
    for folder, dirs, _ in os.walk(real):
        for d in list(dirs):
            path = os.path.join(folder, d)
            try:
                if os.lstat(path).st_dev != top:
                    found.append(Path(path))
                    dirs.remove(d)
            except OSError:
                dirs.remove(d)
    return sorted(found)


# --- removing only what is ours ------------------------------------------------------------------

def remove_tree(top: Path) -> None:
    """Remove a folder this module made, never crossing into another file system (a mount point
    inside it, even a bind mount of the same device, is left with its content) and never
    following a symbolic link. Errors are ignored: what is left is removed by the next run."""
    try:
        dev = os.lstat(top).st_dev
    except OSError:
        return
    table = _mount_table() or []
    mounts = {str(p) for p in table if Path(os.path.realpath(top)) in p.parents}
    _remove_below(str(top), dev, mounts)
    try:
        os.rmdir(top)
    except OSError:
        pass


def _remove_below(folder: str, dev: int, mounts: set[str]) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            if st.st_dev != dev or os.path.realpath(entry.path) in mounts:
                log.warning("left %s alone: another file system is mounted there", entry.path)
                continue
            _remove_below(entry.path, dev, mounts)
            try:
                os.rmdir(entry.path)
            except OSError:
                pass
        else:
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_temporaries(folder: Path, prefix: str = ".") -> list[Path]:
    """Hidden entries in ``folder`` that a killed run of ours left: named ``PREFIX....siting-PID-XXXX``
    by this module, owned by this user, and made by a process that no longer runs."""
    found = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if not m or not entry.name.startswith(prefix):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if st.st_uid == os.getuid() and not _alive(int(m.group(1))):
            found.append(Path(entry.path))
    return found


def remove_stale(folder: Path, prefix: str = ".") -> None:
    """Remove what :func:`stale_temporaries` finds (hidden folders and files of killed runs)."""
    for path in stale_temporaries(folder, prefix):
        if path.is_dir() and not path.is_symlink():
            remove_tree(path)
        else:
            path.unlink(missing_ok=True)


# --- writing -------------------------------------------------------------------------------------

def _bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode("utf-8")


def _put(fh, text: str | bytes) -> None:
    """Write one file's content and make it durable before anything is renamed."""
    fh.write(_bytes(text))
    fh.flush()
    os.fsync(fh.fileno())


def file_mode() -> int:
    """The mode a new file gets under the user's umask (``0o666`` less the umask)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def temporary_name(path: Path) -> str:
    """A hidden name beside ``path`` that :func:`remove_stale` recognises once this process is gone."""
    return f".{path.name}{_TAG}{os.getpid()}-"


def atomic_write(path: Path, content: str | bytes) -> None:
    """Write ``content`` to a temporary file beside ``path`` (with the user's umask) and rename it
    into place, so that ``path`` is never half-written."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temporary_name(path))
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(_bytes(content))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_folder(out: Path, texts: dict[str, str | bytes], replaces: Callable[[str], bool]) -> None:
    """Make ``out`` hold ``texts`` (name -> content; ``manifest.json``, if among them, moved in last)
    as one step, keeping every entry of the old folder that ``replaces`` does not claim.

    Parameters
    ----------
    out
        The results folder (created if missing).
    texts
        Every file of the new run.
    replaces
        Whether an entry of the old folder not in ``texts`` is a result of the previous run (left
        out of the new folder) rather than something of the planner's (kept).

    Raises
    ------
    InputError
        On too little free space, or on any ``OSError`` while writing: one line, and the previous
        run left whole (see the module docstring).
    """
    out = Path(out)
    made = _missing_folders(out)
    try:
        _check_space(out, texts)
        out.mkdir(parents=True, exist_ok=True)
        remove_stale(out.resolve().parent, f".{out.resolve().name}{_TAG}")
        remove_stale(out)
        if swap_available(out):
            try:
                _write_and_swap(out, texts, replaces)
                return
            except _NoSwap:
                pass
        _write_in_place(out, texts, replaces)
    except OSError as exc:
        _remove_own(out, made)
        raise InputError(_write_problem(out, exc, kept=not made)) from None
    except BaseException:  # a signal (KeyboardInterrupt) included
        _remove_own(out, made)
        raise


def _remove_own(out: Path, made: list[Path]) -> None:
    """Remove what this process wrote for ``out`` and did not move into place: its hidden folder
    beside ``out`` and hidden files in it (also one whose name a signal kept from being recorded),
    then the folders it made and could not fill."""
    real = out.resolve()
    mine = re.compile(rf"^\..+{re.escape(_TAG)}{os.getpid()}-[A-Za-z0-9_]+$")
    for folder in (real.parent, real):
        try:
            entries = [e for e in os.scandir(folder) if mine.match(e.name)]
        except OSError:
            continue
        for entry in entries:
            if folder == real.parent and not entry.name.startswith(f".{real.name}{_TAG}"):
                continue
            if entry.is_dir(follow_symlinks=False):
                remove_tree(Path(entry.path))
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
    for folder in reversed(made):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _missing_folders(out: Path) -> list[Path]:
    made, p = [], out.absolute()
    while not p.exists() and p != p.parent:
        made.append(p)
        p = p.parent
    return list(reversed(made))


def _write_problem(out: Path, exc: OSError, kept: bool) -> Problem:
    reason = exc.strerror or str(exc)
    fix = {errno.ENOSPC: "free some disk space or choose another folder",
           errno.EDQUOT: "free some of your disk quota or choose another folder",
           errno.EROFS: "choose a folder on a writable disk"}.get(exc.errno or 0, "choose a folder you can write to")
    kept_text = "; the previous results in it are left as they were" if kept else ""
    return Problem(f"--out {out}", f"cannot write there ({reason}){kept_text}", fix)


def _check_space(out: Path, texts: dict[str, str | bytes]) -> None:
    p = out.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        fs = os.statvfs(p)
    except (OSError, AttributeError):
        return  # no way to tell here: a full disk is then caught while writing
    block = fs.f_frsize or fs.f_bsize or 4096
    need = sum(-(-len(_bytes(t)) // block) * block for t in texts.values()) + SPACE_MARGIN
    free = fs.f_bavail * block
    if free < need:
        raise InputError(Problem(f"--out {out}", f"needs {_size(need)} and the disk has {_size(free)} free; "
                                                 "nothing was written",
                                 "free some disk space or choose another folder"))
    if fs.f_files and fs.f_favail < len(texts) + 2:
        raise InputError(Problem(f"--out {out}", f"needs {len(texts) + 2} files and the disk can hold "
                                                 f"{fs.f_favail} more; nothing was written",
                                 "free some disk space or choose another folder"))


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


class _NoSwap(Exception):
    """The file system refused the atomic swap."""


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _renameat2():
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def swap_available(out: Path) -> bool:
    """Whether ``out`` can be replaced by a swap of folders (see the module docstring)."""
    if not sys.platform.startswith("linux") or _renameat2() is None:
        return False
    real = out.resolve()
    if not os.access(real.parent, os.W_OK):
        return False
    if out.exists():
        cwd = Path.cwd().resolve()
        if real == cwd or real in cwd.parents or os.path.ismount(real):
            return False
    return True


def _write_and_swap(out: Path, texts: dict[str, str | bytes], replaces: Callable[[str], bool]) -> None:
    real = out.resolve()
    staging = Path(tempfile.mkdtemp(prefix=temporary_name(real), dir=real.parent))
    try:
        os.chmod(staging, real.stat().st_mode & 0o7777)
        mode = file_mode()
        for entry in real.iterdir():
            if entry.name not in texts and not replaces(entry.name) and not _TEMP_NAME.match(entry.name):
                _link(entry, staging / entry.name)
        for name, text in texts.items():
            fd = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            with os.fdopen(fd, "wb") as fh:
                _put(fh, text)
            _pause()
        _fsync_dir(staging)
        if _renameat2()(_AT_FDCWD, bytes(staging), _AT_FDCWD, bytes(real), _RENAME_EXCHANGE) != 0:
            code = ctypes.get_errno()
            if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV, errno.EBUSY):
                raise _NoSwap()
            raise OSError(code, os.strerror(code))
        _fsync_dir(real.parent)
        _pause()
    finally:
        # before the swap the hidden folder holds the unfinished new run; after it, the old one
        remove_tree(staging)


def _link(src: Path, dst: Path) -> None:
    """Carry one of the planner's own entries into the new folder without copying its data."""
    import shutil

    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        shutil.copytree(src, dst, symlinks=True, copy_function=_link_file)
    else:
        _link_file(src, dst)


def _link_file(src, dst) -> None:
    import shutil

    try:
        os.link(src, dst)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
            raise
        shutil.copy2(src, dst)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_in_place(out: Path, texts: dict[str, str | bytes], replaces: Callable[[str], bool]) -> None:
    written: dict[str, str] = {}
    try:
        mode = file_mode()
        for name, text in texts.items():  # every file first, under a hidden name
            fd, tmp = tempfile.mkstemp(dir=out, prefix=temporary_name(out / name))
            written[name] = tmp
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as fh:
                _put(fh, text)
        # from here on nothing needs space: the folder is marked incomplete, then filled
        (out / "manifest.json").unlink(missing_ok=True)
        for name, tmp in written.items():
            if name != "manifest.json":
                os.replace(tmp, out / name)
                _pause()
        for entry in list(out.iterdir()):
            if entry.name not in texts and replaces(entry.name) and entry.is_file() and not entry.is_symlink():
                entry.unlink()
        if "manifest.json" in written:
            os.replace(written["manifest.json"], out / "manifest.json")
        _fsync_dir(out)
    finally:
        for tmp in written.values():
            if os.path.exists(tmp):
                os.unlink(tmp)
