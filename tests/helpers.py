"""Helpers that write tiny instances inline, so each test states its data beside its answer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import yaml

from siting.run import run_case
from siting.solve import load_profile

#: Settings that make the capital recovery factor 1 (r = 0, L = 1) and amounts plain currency.
PLAIN = {"currency": "USD", "money_unit": "one", "discount_rate": 0.0, "lifetime_years": 1}


def write_instance(folder: Path, tables: dict[str, str], settings: dict | None = None,
                   name: str = "t") -> Path:
    """Write ``instance.yaml`` and one CSV per entry of ``tables`` (CSV text, dedented)."""
    folder.mkdir(parents=True, exist_ok=True)
    for tname, text in tables.items():
        (folder / f"{tname}.csv").write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    spec = {"name": name, "settings": {**PLAIN, **(settings or {})},
            "tables": {t: f"{t}.csv" for t in tables}}
    (folder / "instance.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return folder


def solve(folder: Path, sets=(), profile: str = "exact", duals: bool = True):
    """Solve with one thread and a fixed seed (the profiles pin both)."""
    return run_case(folder, load_profile(profile), sets=list(sets), duals=duals)
