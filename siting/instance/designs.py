"""Policy packages: named sets of subsidy instruments that replace or add to an instance's own.

A designs file (YAML) reads::

    policy_country: JP              # whose outlay and domestic capacity count (optional)
    packages:
      japan-2021:
        description: METI's grant as offered in 2021
        replace:                    # these instruments instead of the instance's own
          - {id: meti, kind: capex_grant, site: kumamoto, rate: 0.43, cap: 3173}
      chips-act:
        policy_country: US
        add:                        # these instruments on top of the instance's own
          - {id: itc, kind: tax_credit, country: US, rate: 0.25}
        programs:                   # program budgets the package's instruments may name
          - {id: chips, budget: 39000}
        set: [instruments.phoenix-infra.amount=300]   # any --set override

Two packages always exist: ``base`` (the instance as given) and ``none`` (no instrument at all).
A package is applied to the raw instance, so its rows pass the same checks as the files, and a
problem names the package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from siting.errors import InputError, Problem
from siting.instance.countries import country_problem
from siting.instance.overrides import apply_overrides
from siting.instance.read import RawInstance
from siting.instance.schema import TABLES
from siting.instance.yamlfile import load_yaml

BUILT_IN = ("base", "none")


class _Package(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    policy_country: str | None = None
    replace: list[dict] | None = Field(None, description="Instruments instead of the instance's own.")
    add: list[dict] = Field(default_factory=list, description="Instruments on top of the instance's own.")
    programs: list[dict] = Field(default_factory=list, description="Program budgets, replacing the instance's.")
    set: list[str] = Field(default_factory=list, description="--set overrides applied after the tables.")


class _Designs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    policy_country: str = ""
    packages: dict[str, _Package | None] = Field(default_factory=dict)


@dataclass(frozen=True)
class Package:
    """One policy package, ready to apply to an instance."""

    name: str
    description: str = ""
    policy_country: str | None = None
    replace: tuple[dict, ...] | None = None
    add: tuple[dict, ...] = ()
    programs: tuple[dict, ...] | None = None
    sets: tuple[str, ...] = field(default_factory=tuple)
    origin: str = ""


def read_designs(path: str | Path) -> list[Package]:
    """Read a designs file: ``base`` and ``none`` first, then its packages in file order.

    Raises
    ------
    InputError
        For a missing or malformed file, an unknown key, or a package that redefines ``base`` or ``none``.
    """
    path = Path(path)
    where = path.name
    # aliases, tags, repeated keys and unquoted yes/no words are refused, as in instance.yaml
    data = load_yaml(path, str(path), "designs files", "no such file",
                     "give the designs YAML file, e.g. instances/jasm/designs.yaml")
    if not isinstance(data, dict):
        raise InputError(Problem(where, "is not a mapping with a 'packages' key",
                                 "start the file with 'packages:' and one entry per package"))
    try:
        spec = _Designs.model_validate(data)
    except ValidationError as exc:
        raise InputError([Problem(f"{where} {'.'.join(str(p) for p in e['loc'])}", e["msg"].lower(),
                                  "keys of a package are description, policy_country, replace, add, programs, set")
                          for e in exc.errors()]) from None
    bad = [(f"{where} policy_country", spec.policy_country)] + [
        (f"{where} packages.{name}.policy_country", pkg.policy_country)
        for name, pkg in spec.packages.items() if pkg is not None and pkg.policy_country]
    problems = [Problem(loc, *country_problem(code)) for loc, code in bad if code and country_problem(code)]
    if problems:
        raise InputError(problems)
    country = spec.policy_country or None
    out = [Package("base", "the instance as given", country, origin=where),
           Package("none", "no subsidy instrument", country, replace=(), programs=(), origin=where)]
    for name, pkg in spec.packages.items():
        if name in BUILT_IN:
            raise InputError(Problem(f"{where} packages.{name}", "is built in and cannot be redefined",
                                     "give the package another name"))
        pkg = pkg or _Package()
        out.append(Package(name, pkg.description, pkg.policy_country or country,
                           None if pkg.replace is None else tuple(pkg.replace), tuple(pkg.add),
                           tuple(pkg.programs) if pkg.programs else None, tuple(pkg.set), origin=where))
    return out


def _rows(rows, table: str) -> pd.DataFrame:
    names = TABLES[table].names
    df = pd.DataFrame([{k: "" if v is None else str(v) for k, v in r.items()} for r in rows],
                      columns=sorted({k for r in rows for k in r}, key=lambda c: names.index(c) if c in names else 99))
    return df.fillna("")


def apply_package(raw: RawInstance, package: Package) -> RawInstance:
    """Return ``raw`` with the package's instruments, programs, policy country and overrides applied."""
    tables, origins = dict(raw.tables), dict(raw.origins)
    label = f"{package.origin}[{package.name}]"
    if package.replace is not None or package.add:
        own = tables.get("instruments", pd.DataFrame(columns=["id", "kind", "site"]))
        new = _rows(package.add if package.replace is None else package.replace, "instruments")
        if package.replace is None:
            start = (max(own.index) + 1) if len(own) else 2
            new.index = range(start, start + len(new))
            both = pd.concat([own, new]).fillna("")
            tables["instruments"] = both.astype(str)
            origins["instruments"] = f"{origins.get('instruments', 'instruments.csv')} + {label}"
        elif len(new) == 0:
            tables.pop("instruments", None)  # an absent optional table is an empty one
        else:
            new.index = range(1, len(new) + 1)
            tables["instruments"] = new.astype(str)
            origins["instruments"] = f"{label} instruments"
    if package.programs is not None and not package.programs:
        tables.pop("programs", None)
    elif package.programs is not None:
        new = _rows(package.programs, "programs")
        new.index = range(1, len(new) + 1)
        tables["programs"] = new.astype(str)
        origins["programs"] = f"{label} programs"
    settings = dict(raw.settings)
    overridden = dict(raw.overridden)
    if package.policy_country is not None:
        settings["policy_country"] = package.policy_country
        # a problem with it names the designs file, not instance.yaml
        overridden[("settings", "policy_country")] = f"{label} policy_country"
    changed = raw.with_changes(tables=tables, origins=origins, settings=settings, overridden=overridden)
    # a problem with one of these overrides names the designs file and package, not a --set
    return apply_overrides(changed, list(package.sets), source=f"{package.origin} packages.{package.name} set:")
