"""The committed reference results reproduce under the tested versions (``constraints.txt``).

``siting solve instances/jasm`` is run as a planner runs it, into a temporary folder, and every file
of the committed ``results/jasm/`` is compared with the new one:

- the tables (every ``.csv``), ``map.png`` and ``network.gpkg``: byte for byte (the picture is
  drawn without a timestamp and the GeoPackage with a fixed date, so under the same versions of
  matplotlib, Pillow, GDAL and the solver their bytes do not change);
- ``summary.json``: every field but ``times`` (seconds, which differ from run to run) and
  ``command`` (the new run names its own ``--out``);
- ``manifest.json``: every field but ``created`` (the date), ``command``, ``platform`` and
  ``python`` (the machine's kernel and the interpreter's patch release, not the tool's inputs), and
  the SHA-256 of ``summary.json`` and ``report.html`` (they hold the times);
- ``report.html`` is not compared: it prints the times, the date and the command line, and its
  tables and map are the files compared above.

The test needs the versions the results were made with; when the installed versions differ from
``constraints.txt`` (as in ``.ci/newest``) it is skipped and names the packages that differ.
After a change that moves any result on purpose, regenerate the folder with
``siting solve instances/jasm`` and commit it with the change.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "results" / "jasm"
CONSTRAINTS = ROOT / "constraints.txt"
#: Fields that differ between two runs of the same solve, and why (see the module docstring).
SUMMARY_VARIES = ("times", "command")
MANIFEST_VARIES = ("created", "command", "platform", "python")
HASHES_VARY = ("summary.json", "report.html")
NOT_COMPARED = ("report.html",)


def pins() -> dict[str, str]:
    """Package -> pinned version, from constraints.txt (names normalised as pip does)."""
    out = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            out[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return out


def _requirements(dist: str, extras: tuple[str, ...] = ()) -> set[str]:
    names = set()
    for req in metadata.requires(dist) or []:
        spec, _, marker = req.partition(";")
        wanted = [m for m in re.findall(r'extra == "([^"]+)"', marker)]
        if wanted and not set(wanted) & set(extras):
            continue
        name = re.match(r"[A-Za-z0-9_.-]+", spec.strip()).group(0)
        names.add(re.sub(r"[-_.]+", "-", name).lower())
    return names


def installed_closure() -> set[str]:
    """Every installed distribution that ``siting[test,mpi,dev]`` pulls in, however deep."""
    todo, seen = list(_requirements("siting", ("test", "mpi", "dev"))), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement for another platform or Python (its marker excluded it)
        seen.add(name)
        todo.extend(_requirements(name))
    return seen


#: The installer's own tools: ``pip freeze`` leaves them out, and a pin on pip would fight the
#: ``pip install --upgrade pip`` that comes first.
INSTALLER = {"pip", "setuptools", "wheel"}


def test_constraints_pin_every_installed_dependency():
    """A dependency added to pyproject.toml without refreshing constraints.txt is caught here."""
    missing = sorted(installed_closure() - set(pins()) - INSTALLER)
    assert not missing, f"not pinned in constraints.txt: {', '.join(missing)} (see README, Development)"


def _differing_versions() -> list[str]:
    out = []
    for name, version in pins().items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        if have != version:
            out.append(f"{name} {have} (tested {version})")
    return out


def _without(d: dict, keys) -> dict:
    return {k: v for k, v in d.items() if k not in keys}


def test_committed_flagship_results_reproduce(tmp_path):
    differ = _differing_versions()
    if differ:
        pytest.skip("results/jasm reproduce under the versions of constraints.txt; installed: " + ", ".join(differ))
    out = tmp_path / "jasm"
    done = subprocess.run([sys.executable, "-m", "siting.cli", "solve", "instances/jasm", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    committed = sorted(p.name for p in COMMITTED.iterdir())
    assert committed == sorted(p.name for p in out.iterdir())
    for name in committed:
        old, new = (COMMITTED / name).read_bytes(), (out / name).read_bytes()
        if name == "summary.json":
            assert _without(json.loads(new), SUMMARY_VARIES) == _without(json.loads(old), SUMMARY_VARIES)
        elif name == "manifest.json":
            a, b = json.loads(new), json.loads(old)
            for m in (a, b):
                for file in HASHES_VARY:
                    m["sha256"].pop(file)
            assert _without(a, MANIFEST_VARIES) == _without(b, MANIFEST_VARIES)
        elif name not in NOT_COMPARED:
            assert new == old, f"{name} differs from the committed results/jasm/{name}"
