"""Write a run into its results folder: tables, ``summary.json`` and ``manifest.json``.

Every file is written to a temporary name and moved into place, so an interrupted run never
leaves a half-written file behind, and the folder never mixes the tables of two runs: stale
tables of an earlier run that this run did not produce are removed.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import sys
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from siting.errors import InputError, Problem

TABLE_FILES = ("sites", "capacity", "production", "procurement", "supplier_mix", "qualification",
               "unmet", "subsidies", "costs", "shadow_prices")


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "unknown"


def _clean(value):
    """JSON-safe value: NaN and infinities become None, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def summary_dict(run, command: list[str] | None = None) -> dict:
    """The content of ``summary.json`` for a run."""
    inst, out = run.instance, run.outcome
    st = inst.settings
    summary: dict = {
        "status": out.status,
        "termination": out.termination,
        "objective": out.objective,
        "best_bound": out.best_bound,
        "mip_gap": out.mip_gap,
        "units": {
            "money": st.money_label,
            "objective": f"{st.money_label} per year (annualised firm cost)",
            "capacity": "300 mm-equivalent wafers per year",
        },
        "times": run.times,
    }
    res = run.results
    if res is not None:
        sites = res.tables["sites"]
        cap = res.tables["capacity"]
        by_site = {s: dict(zip(g["product"], g["capacity_wafers_per_year"].astype(float)))
                   for s, g in cap.groupby("site", sort=False)}
        summary["sites"] = [
            {
                "id": r["site"], "open": bool(r["open"]),
                "capacity": by_site.get(r["site"], {}),
                "production": r["production_wafers_per_year"],
                "utilisation": r["utilisation"],
                "local_share": r["local_share"],
                "local_target": r["local_target"],
                "subsidy": r["subsidy_total"],
                "subsidy_per_year": r["subsidy_per_year"],
                "capex": r["capex_total"],
            }
            for _, r in sites.iterrows()
        ]
        summary["costs"] = dict(res.costs)
        subs = res.tables["subsidies"]
        summary["government_outlay"] = float(subs["payout_per_year"].sum()) if len(subs) else 0.0
        summary["government_outlay_total"] = float(subs["payout_total"].sum()) if len(subs) else 0.0
        summary["unmet_demand"] = float(res.tables["unmet"]["unmet_wafers_per_year"].sum())
        shadow = run.shadow if run.shadow is not None else pd.DataFrame()
        summary["shadow_prices"] = {
            kind: shadow[shadow["constraint"] == kind].dropna(axis=1, how="all").to_dict("records")
            for kind in ("local_share", "capacity", "supplier_capacity")
        } if len(shadow) else {}
        summary["checks"] = {"passed": not run.violations, "violations": run.violations}
    summary["screens"] = [f.as_dict() for f in run.screens]
    summary["diagnosis"] = [f.as_dict() for f in run.diagnosis]
    summary["numerics"] = out.numerics
    summary["solver"] = {"name": "highs", "version": _version("highspy"), "options": out.options,
                         "nodes": out.nodes}
    summary["instance"] = {"name": inst.name, "path": str(inst.path), "sha256": inst.sha256}
    summary["overrides"] = list(inst.overrides)
    if command is not None:
        summary["command"] = command
    return _clean(summary)


def manifest_dict(run, command: list[str] | None = None) -> dict:
    """What anyone needs to reproduce a run."""
    inst = run.instance
    return _clean({
        "siting": _version("siting"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": {p: _version(p) for p in ("pyomo", "highspy", "pandas", "numpy", "scipy", "pyproj", "pydantic")},
        "instance": {"name": inst.name, "path": str(inst.path), "sha256": inst.sha256,
                     "sources": [s.model_dump() for s in inst.sources]},
        "overrides": list(inst.overrides),
        "solver_options": run.outcome.options,
        "seed": run.options.random_seed,
        "command": command if command is not None else sys.argv,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    })


def default_out_dir(name: str) -> Path:
    """``results/<name>/``, with the name reduced to one safe path component."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip(".-") or "instance"
    return Path("results") / safe


def check_out_dir(out: Path, instance_root: Path | None = None) -> Path:
    """Make sure results can go to ``out`` without creating anything yet.

    Raises an :class:`InputError` if ``out`` is a file, is not writable, or is an instance folder
    (its tables share names with the result tables and would be overwritten).
    """
    where = f"--out {out}"
    if out.exists() and not out.is_dir():
        raise InputError(Problem(where, "is a file, not a folder", "choose a folder for the results"))
    resolved = out.resolve()
    if out.is_dir() and ((instance_root is not None and resolved == instance_root.resolve())
                         or any((out / n).is_file() for n in ("instance.yaml", "instance.yml"))
                         or any(out.glob("*.xlsx"))):
        raise InputError(Problem(where, "is an instance folder: its tables would be overwritten",
                                 "write the results to another folder"))
    parent = resolved
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise InputError(Problem(where, f"cannot write there ({parent} is not writable)",
                                 "choose a folder you can write to"))
    return out


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_run(run, out: Path, command: list[str] | None = None) -> list[Path]:
    """Write every table, ``summary.json`` and ``manifest.json`` into ``out``.

    Returns the files written. Tables are written only when the run has a solution; tables that
    an earlier run wrote into the same folder (listed in its manifest) and this run did not are
    removed, so the folder never mixes two runs. No other file is ever removed.
    """
    out = Path(out)
    check_out_dir(out, run.instance.root)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(Problem(f"--out {out}", f"cannot write there ({exc.strerror})",
                                 "choose a folder you can write to")) from None
    earlier = _files_of_earlier_run(out)
    tables = dict(run.results.tables) if run.results is not None else {}
    if run.shadow is not None:
        tables["shadow_prices"] = run.shadow
    written = []
    for name in TABLE_FILES:
        if name in tables:
            path = out / f"{name}.csv"
            _atomic_write(path, tables[name].to_csv(index=False, float_format="%.10g"))
            written.append(path)
    names = [p.name for p in written] + ["summary.json", "manifest.json"]
    for stale in earlier - set(names):
        (out / stale).unlink(missing_ok=True)
    manifest = manifest_dict(run, command)
    manifest["files"] = names
    for name, content in (("summary.json", summary_dict(run, command)), ("manifest.json", manifest)):
        path = out / name
        _atomic_write(path, json.dumps(content, indent=2, allow_nan=False) + "\n")
        written.append(path)
    return written


def _files_of_earlier_run(out: Path) -> set[str]:
    """Result files a previous run recorded in its manifest (only plain names of known tables)."""
    try:
        files = json.loads((out / "manifest.json").read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()
    known = {f"{t}.csv" for t in TABLE_FILES}
    return {f for f in files if isinstance(f, str) and f in known}
