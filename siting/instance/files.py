"""Bounded, safe access to input files: the one place that opens a file the planner named.

Every input is read only if it is a regular file (a FIFO would block the reader forever, a device
would never end, a folder is not a file), and only up to a size stated here, so that no input,
however made, can hang the tool or exhaust its memory. Problems are one line naming the file and
the limit.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from pathlib import Path

from siting.errors import Problem

MIB = 2**20
#: Largest ``instance.yaml`` or designs file read: settings, table names, sources and assumptions
#: take kilobytes; tens of megabytes of YAML are a generated or hostile file.
MAX_YAML_BYTES = 8 * MIB
#: Largest CSV table read (a million rows of a wide table fits).
MAX_TABLE_BYTES = 512 * MIB
#: Longest CSV cell read (the limit of Python's csv module, kept as it is).
MAX_CSV_FIELD = 131_072
#: Most bytes the parts of an Excel workbook may declare once uncompressed (a zip bomb declares
#: gigabytes in a few megabytes; a workbook of a million cells takes about 100 MiB).
MAX_WORKBOOK_UNCOMPRESSED = 512 * MIB

_KINDS = ((stat.S_ISDIR, "is a folder, not a file"), (stat.S_ISFIFO, "is a FIFO (named pipe), not a file"),
          (stat.S_ISCHR, "is a device, not a file"), (stat.S_ISBLK, "is a device, not a file"),
          (stat.S_ISSOCK, "is a socket, not a file"))


def size_text(n: int) -> str:
    """``8 MiB``, ``131,072 characters``-style sizes for messages."""
    return f"{n // MIB:,} MiB" if n >= MIB and n % MIB == 0 else f"{n:,} bytes"


def file_problem(path: Path, where: str, missing: str = "not found",
                 fix: str = "give the path of a file") -> tuple[Problem | None, os.stat_result | None]:
    """Whether ``path`` names a regular file; its ``stat`` if so, else the problem in one line.

    ``os.stat`` follows symbolic links, so a link to a file is a file; a link that leads back to
    itself is a located problem, not a crash, and nothing is opened to find out (opening a FIFO
    blocks until a writer comes).
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return Problem(where, f"is a symbolic link to '{os.readlink(path)}', which does not exist",
                           "point the link at the file or give the file itself"), None
        return Problem(where, missing, fix), None
    except NotADirectoryError:
        return Problem(where, missing, fix), None
    except PermissionError:
        return Problem(where, "cannot be read (permission denied)", "check the file's permissions"), None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Problem(where, "is a symbolic link loop (the links lead back to themselves)",
                           "point the link at the file or give the file itself"), None
        if exc.errno == errno.ENAMETOOLONG:
            return Problem(where, "is a path too long for this system", "give a shorter path"), None
        return Problem(where, f"cannot be read ({exc.strerror or exc})", fix), None
    for test, said in _KINDS:
        if test(st.st_mode):
            return Problem(where, said, fix), None
    return None, st


def read_limited(path: Path, where: str, limit: int, what: str, missing: str = "not found",
                 fix: str = "give the path of a file") -> bytes | Problem:
    """The bytes of the regular file ``path`` if it holds at most ``limit`` bytes, else the problem.

    The file is opened without blocking and checked again once open, so that a file swapped for a
    FIFO between the check and the opening still cannot hang the reader.
    """
    problem, st = file_problem(path, where, missing, fix)
    if problem is not None:
        return problem
    too_big = Problem(where, f"is larger than {size_text(limit)}, the limit for {what}",
                      f"{what} hold far less; check that this is the right file")
    if st.st_size > limit:
        return too_big
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except PermissionError:
        return Problem(where, "cannot be read (permission denied)", "check the file's permissions")
    except OSError as exc:
        return Problem(where, f"cannot be read ({exc.strerror or exc})", fix)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return Problem(where, "is not a regular file", fix)
        chunks, size = [], 0
        with os.fdopen(fd, "rb", closefd=False) as f:
            # in pieces: a read of limit + 1 bytes at once would reserve that much memory first
            while size <= limit and (chunk := f.read(min(MIB, limit + 1 - size) or 1)):
                chunks.append(chunk)
                size += len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        return Problem(where, f"cannot be read ({exc.strerror or exc})", fix)
    finally:
        os.close(fd)
    return too_big if len(data) > limit else data


_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
         (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def decode_utf8(data: bytes, name: str, fix: str, rows: str = "line") -> str | Problem:
    """``data`` as UTF-8 text (a UTF-8 byte-order mark is dropped), or the problem naming the
    first byte that is not UTF-8, its offset and its line (``rows``: the word for a line)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return Problem(name, f"is {encoding} text (it starts with a {encoding} byte-order mark), "
                                 "not UTF-8", fix)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return Problem(f"{name} {rows} {line}",
                       f"is not UTF-8 text: byte 0x{data[exc.start]:02X} at offset {exc.start:,} is not valid "
                       "UTF-8", fix)
