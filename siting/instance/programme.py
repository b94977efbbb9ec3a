"""Programme files: a government's pool of candidate projects, its instrument and its budgets.

A programme file (YAML) reads::

    country: US                      # the courting country: its sites are the ones it may fund
    instrument: lump                 # lump (exact), grant-rate or per-wafer (bisection)
    budgets: [0, 20000, 50000]       # in the projects' money unit (all projects must share it)
    objective: fabs                  # capacity, fabs, investment or local-share (--objective overrides)
    projects:
      - {name: p01, instance: projects/base, set: [modules.us/chip.capex_per_module=21000]}
      - {name: jasm, instance: ../jasm, designs: ../jasm/designs.yaml, package: national-grant-budget}

Paths are relative to the programme file. A project is an instance (with optional ``set``
overrides) or one package of a designs file applied to it. Projects that apply packages to the
same instance with the same overrides are one firm's decision under different packages: they share
a ``group``; every other project is a group of its own (``group:`` overrides both). The allocation
takes exactly one option per group.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from siting.errors import InputError, Problem

OBJECTIVES = ("capacity", "fabs", "investment", "local-share")
INSTRUMENTS = ("lump", "grant-rate", "per-wafer")


class _Project(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    instance: str
    designs: str | None = None
    package: str | None = None
    set: list[str] = Field(default_factory=list)
    group: str | None = None


class _Programme(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str
    instrument: str = "lump"
    budgets: list[float] = Field(default_factory=list)
    objective: str = "fabs"
    projects: list[_Project]


@dataclass(frozen=True)
class Project:
    """One candidate project: an instance, optional overrides and designs package, its group."""

    name: str
    instance: Path
    sets: tuple[str, ...] = ()
    designs: Path | None = None
    package: str | None = None
    group: str = ""


@dataclass(frozen=True)
class Programme:
    """A checked programme file."""

    path: Path
    country: str
    instrument: str
    budgets: tuple[float, ...]
    objective: str
    projects: tuple[Project, ...]


def _keys_hint() -> str:
    return ("keys are country, instrument, budgets, objective, projects "
            "(each: name, instance, designs, package, set, group)")


def read_programme(path: str | Path) -> Programme:
    """Read and check a programme file; every problem is listed at once.

    Raises
    ------
    InputError
        For a missing or malformed file, an unknown key, an unknown instrument or objective, a
        negative budget, a repeated project name, a missing instance, or a package without designs.
    """
    path = Path(path)
    where = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(Problem(str(path), "no such file", "give the programme YAML file")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(str(path), f"cannot be read ({exc})", "give the programme YAML file as UTF-8 text")
                         ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise InputError(Problem(f"{where}{line}", "is not valid YAML", "check indentation and quoting")) from None
    if not isinstance(data, dict):
        raise InputError(Problem(where, "is not a mapping", "start with 'country:' and 'projects:'"))
    try:
        spec = _Programme.model_validate(data)
    except ValidationError as exc:
        raise InputError([Problem(f"{where} {'.'.join(str(p) for p in e['loc'])}", e["msg"].lower(), _keys_hint())
                          for e in exc.errors()]) from None
    problems = []
    if spec.instrument not in INSTRUMENTS:
        problems.append(Problem(f"{where} instrument", f"{spec.instrument!r} is not a programme instrument",
                                "use " + ", ".join(INSTRUMENTS)))
    if spec.objective not in OBJECTIVES:
        problems.append(Problem(f"{where} objective", f"{spec.objective!r} is not an objective",
                                "use " + ", ".join(OBJECTIVES)))
    for k, b in enumerate(spec.budgets):
        if not b >= 0:
            problems.append(Problem(f"{where} budgets.{k}", f"is {b}; a budget must be >= 0", "give 0 or more"))
    if not spec.projects:
        problems.append(Problem(f"{where} projects", "is empty", "name at least one project"))
    seen: set[str] = set()
    projects = []
    for k, p in enumerate(spec.projects):
        loc = f"{where} projects.{k} ({p.name})"
        if p.name in seen:
            problems.append(Problem(loc, "repeats a project name", "give each project its own name"))
        seen.add(p.name)
        inst = (path.parent / p.instance).resolve()
        if not inst.exists():
            problems.append(Problem(loc, f"instance {p.instance} does not exist", "give a path relative to the file"))
        if (p.designs is None) != (p.package is None):
            problems.append(Problem(loc, "gives one of designs and package without the other",
                                    "give both (a package of a designs file) or neither"))
        designs = (path.parent / p.designs).resolve() if p.designs else None
        # packages of one designs file applied to the same instance are one firm's decision;
        # any other project is its own firm (identical projects included)
        group = p.group or (f"{inst}|{'|'.join(p.set)}" if designs is not None else p.name)
        projects.append(Project(p.name, inst, tuple(p.set), designs, p.package, group))
    if problems:
        raise InputError(problems)
    return Programme(path, spec.country, spec.instrument, tuple(spec.budgets), spec.objective, tuple(projects))
