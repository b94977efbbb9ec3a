"""Write a run into its results folder: tables, ``summary.json`` and ``manifest.json``.

A results folder holds one run, whole: the files its ``manifest.json`` lists, each with its
SHA-256, and never a table of another run. This module makes the content of a run's or an
analysis's folder; :mod:`siting.report.folder` puts it in place as one step (the atomic swap, or
every file written before the first rename) and refuses folders where results would destroy data.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from siting.errors import InputError, Problem
from siting.instance.hazards import scenario_set
from siting.report.figures import plan_figures
from siting.report.folder import (  # noqa: F401 - the writer's names, also used from here
    PAUSE_VARIABLE,
    atomic_write,
    check_out_dir,
    swap_available,
    write_folder,
)
from siting.report.headline import headline

TABLE_FILES = ("sites", "capacity", "production", "procurement", "supplier_mix", "qualification",
               "unmet", "subsidies", "costs", "scenarios", "shadow_prices", "schedule", "periods", "local_share",
               "resources", "repayments")
#: Files other than tables that a run writes: the network for GIS, its map and the report page.
PICTURE_FILES = ("network.gpkg", "map.png", "report.html")


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "unknown"


def json_safe(value):
    """JSON-safe value: NaN and infinities become None, numpy scalars plain numbers.

    Parameters
    ----------
    value
        Anything ``json.dumps`` should write: dicts (keys become strings) and lists are converted
        element by element.

    Returns
    -------
    object
        The same value made only of what JSON holds.
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _phased_summary(summary: dict, res, st) -> None:
    """A phased plan's NPV, its periods' cash flows, and per site its schedule and local-share path."""
    flows = res.tables["periods"]
    summary["npv"] = summary["objective"]
    summary["units"]["objective"] = (f"{st.money_label}, net present value at the end of the horizon's first "
                                     f"year (discount rate {st.discount_rate:g})")
    summary["periods"] = flows.to_dict("records")
    sched, share = res.tables["schedule"], res.tables["local_share"]
    for site in summary["sites"]:
        mine = sched[sched["site"] == site["id"]]
        site["schedule"] = mine[["product", "period", "site_open", "modules", "modules_ordered",
                                 "capacity_wafers_per_year", "production_wafers_per_year"]].to_dict("records")
        site["local_share_by_period"] = share[share["site"] == site["id"]][
            ["period", "target", "achieved"]].to_dict("records")


def summary_dict(run, command: list[str] | None = None) -> dict:
    """The content of ``summary.json`` for a run.

    Parameters
    ----------
    run
        A run through the pipeline (:class:`siting.run.Run`), with or without a plan.
    command
        The command line, recorded as ``command``.

    Returns
    -------
    dict
        Status, objective, bound and gap, units and times; with a plan also the sites, costs,
        government outlay (:mod:`siting.report.figures`), instruments, unmet demand, risk, shadow
        prices and the checks; the screens, diagnosis, numerics, solver and instance. JSON-safe.
    """
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
        if "schedule" in res.tables:
            _phased_summary(summary, res, st)
        subs = res.tables["subsidies"]
        outlay = plan_figures(res).outlay()
        summary["government_outlay"] = outlay.per_year
        summary["government_outlay_total"] = outlay.total
        summary["government_outlay_by_country"] = {
            c: {"per_year": float(g["payout_per_year"].sum()), "total": float(g["payout_total"].sum())}
            for c, g in subs.groupby("provider_country", sort=True)}
        summary["instruments"] = [
            {"id": r["instrument"], "kind": r["kind"], "site": r["site"], "provider_country": r["provider_country"],
             "conditional": bool(r["conditional"]), "taken": bool(r["taken"]), "payout_total": r["payout_total"],
             "payout_per_year": r["payout_per_year"]}
            for _, r in subs.iterrows()]
        summary["unmet_demand"] = res.risk["expected_unmet"]
        summary["risk"] = {**res.risk, **getattr(run, "risk_report", {})}
        shadow = run.shadow if run.shadow is not None else pd.DataFrame()
        summary["shadow_prices"] = {
            kind: shadow[shadow["constraint"] == kind].dropna(axis=1, how="all").to_dict("records")
            for kind in ("local_share", "capacity", "supplier_capacity")
        } if len(shadow) else {}
        summary["checks"] = {"passed": not run.violations, "violations": run.violations}
    if getattr(run, "decomposition", None):
        summary["decomposition"] = run.decomposition
    if getattr(run, "confidence", None):
        summary["confidence"] = run.confidence
    summary["headline"] = headline(run)
    summary["screens"] = [f.as_dict() for f in run.screens]
    summary["diagnosis"] = [f.as_dict() for f in run.diagnosis]
    summary["numerics"] = out.numerics
    summary["solver"] = {"name": "highs", "version": _version("highspy"), "options": out.options,
                         "nodes": out.nodes}
    summary["instance"] = {"name": inst.name, "path": str(inst.path), "sha256": inst.sha256}
    summary["overrides"] = list(inst.overrides)
    generated = scenario_set(inst)
    if generated is not None:
        summary["scenario_set"] = generated
    if command is not None:
        summary["command"] = command
    return json_safe(summary)


def manifest_dict(run, command: list[str] | None = None) -> dict:
    """What anyone needs to reproduce a run."""
    return manifest_base(run.instance, run.options, command)


def manifest_base(inst, options, command: list[str] | None = None) -> dict:
    """The reproduction record of any command on a checked instance with solver options.

    Parameters
    ----------
    inst
        The checked instance (:class:`siting.instance.checked.Instance`).
    options
        The solver options (:class:`siting.solve.SolverOptions`).
    command
        The command line (default: this process's arguments).

    Returns
    -------
    dict
        Versions, instance and its sources with their SHA-256, overrides, HiGHS's options and seed,
        command and time; an analysis adds its own keys and ``files``.
    """
    return json_safe({
        "siting": _version("siting"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": {p: _version(p) for p in ("pyomo", "highspy", "pandas", "numpy", "scipy", "pyproj", "pydantic")},
        "instance": {"name": inst.name, "path": str(inst.path), "sha256": inst.sha256,
                     "sources": [s.model_dump() for s in inst.sources]},
        "overrides": list(inst.overrides),
        "solver_options": options.highs_options(),
        "seed": options.random_seed,
        "command": command if command is not None else sys.argv,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    })


def default_out_dir(name: str) -> Path:
    """``results/<name>/``, with the name reduced to one safe path component."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip(".-") or "instance"
    return Path("results") / safe


def write_analysis(out: Path, files: dict[str, str | bytes], title: str, sections: list[tuple[str, str]],
                   manifest: dict, list_manifest: bool = False, kept: tuple[str, ...] = (),
                   replaces: Callable[[str], bool] | None = None) -> list[str]:
    """Write an analysis's folder as one step.

    The folder gets ``files``, ``report.html`` of ``sections``
    (:func:`siting.report.html.analysis_page`) and ``manifest.json``, which lists them. Every file
    is made first and the folder replaced as one step (:func:`siting.report.folder.write_folder`):
    the results of the previous run stay whole until the new ones are complete.

    Parameters
    ----------
    out
        The analysis's folder.
    files
        Name -> content, in order; the PNGs among them are also the page's pictures.
    title, sections
        The page's title and its (heading, HTML) sections.
    manifest
        The manifest (:func:`manifest_base` and the analysis's own keys); ``files`` is set here.
    list_manifest
        Whether the manifest lists itself too.
    kept
        Entries the folder already holds and keeps, listed first (a sweep's plan and cases).
    replaces
        Whether an entry of the old folder that its manifest does not list is an earlier result
        all the same (left out of the new folder); by default only what the manifest lists is.

    Returns
    -------
    list[str]
        The names the manifest lists.
    """
    from siting.report.html import analysis_page

    out = Path(out)
    earlier = files_of_earlier_run(out)
    texts: dict[str, str | bytes] = dict(files)
    pictures = {name: content for name, content in files.items()
                if name.endswith(".png") and isinstance(content, bytes)}
    texts["report.html"] = analysis_page(title, sections, pictures, manifest)
    manifest["files"] = [*kept, *files, "report.html", *(["manifest.json"] if list_manifest else [])]
    texts["manifest.json"] = json.dumps(json_safe(manifest), indent=2) + "\n"
    write_folder(out, texts, replaces=lambda name: name in earlier or (replaces is not None and replaces(name)))
    return manifest["files"]


def _bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode("utf-8")


def file_hashes(texts: dict[str, str | bytes]) -> dict[str, str]:
    """SHA-256 of each file's content, by name."""
    return {name: hashlib.sha256(_bytes(text)).hexdigest() for name, text in texts.items()}


def scenario_set_texts(inst) -> dict[str, str]:
    """The scenarios generated from the hazards, in the instance format: ``scenario_set.csv``
    and ``scenario_set_effects.csv`` (read back as an instance's ``scenarios`` and
    ``scenario_effects`` tables they give the same scenarios); nothing when the instance gave
    its scenarios as a table."""
    if inst["hazards"].empty:
        return {}
    # shortest round-trip form of each number: read back, the same probabilities to the last bit
    return {"scenario_set.csv": inst["scenarios"].to_csv(index=False),
            "scenario_set_effects.csv": inst["scenario_effects"].to_csv(index=False)}


def result_texts(run, command: list[str] | None = None, xlsx: bool = False) -> dict[str, str | bytes]:
    """Every file of a run's results, by name, with ``manifest.json`` (last) listing the others.

    Parameters
    ----------
    run
        A run through the pipeline.
    command
        The command line, for the summary and the manifest.
    xlsx
        Also ``results.xlsx``: the tables as sheets (:mod:`siting.report.workbook`).

    Returns
    -------
    dict[str, str | bytes]
        Name -> content: the tables (a run with a solution), ``summary.json``, ``network.gpkg`` and
        ``map.png`` (with a solution), ``report.html`` (always) and ``manifest.json`` with the
        others' SHA-256.
    """
    from siting.report.html import report_page
    from siting.report.netmap import network_map
    from siting.report.network import geopackage_bytes, network_layers

    tables = dict(run.results.tables) if run.results is not None else {}
    if run.shadow is not None:
        tables["shadow_prices"] = run.shadow
    texts: dict[str, str | bytes] = {f"{name}.csv": tables[name].to_csv(index=False, float_format="%.10g")
                                     for name in TABLE_FILES if name in tables}
    texts.update(scenario_set_texts(run.instance))
    summary = summary_dict(run, command)
    texts["summary.json"] = json.dumps(summary, indent=2, allow_nan=False) + "\n"
    if xlsx:
        from siting.report.workbook import results_workbook

        texts["results.xlsx"] = results_workbook({name: tables[name] for name in TABLE_FILES if name in tables},
                                                 summary)
    picture = None
    if run.results is not None:
        layers = network_layers(run)
        texts["network.gpkg"] = geopackage_bytes(layers)
        picture = network_map(layers, map_title(summary), summary["units"]["money"])
        texts["map.png"] = picture
    pictures = {}
    if "schedule" in tables:  # a phased plan
        from siting.report.charts import schedule

        pictures["schedule.png"] = texts["schedule.png"] = schedule(tables["schedule"], tables["periods"])
    manifest = manifest_dict(run, command)
    manifest["files"] = [*texts, "report.html", "manifest.json"]
    manifest["sha256"] = file_hashes(texts)
    texts["report.html"] = report_page(summary, manifest, tables, picture, pictures)
    manifest["sha256"]["report.html"] = file_hashes({"r": texts["report.html"]})["r"]
    texts["manifest.json"] = json.dumps(manifest, indent=2, allow_nan=False) + "\n"
    return texts


def map_title(summary: dict) -> str:
    """The map's title: instance, status and firm cost (with the gap when not proven optimal)."""
    name = summary.get("instance", {}).get("name", "")
    money = summary.get("units", {}).get("money", "")
    obj, gap = summary.get("objective"), summary.get("mip_gap")
    cost = "" if obj is None else (f", NPV of firm cost {obj:,.1f} {money}" if "npv" in summary
                                   else f", firm cost {obj:,.1f} {money}/yr")
    gap_text = "" if gap is None else f" (gap {gap:.4%})"
    return f"{name}: {summary.get('status')}{cost}{gap_text}"


def write_run(run, out: Path, command: list[str] | None = None, reads: tuple[Path, ...] = (),
              xlsx: bool = False) -> list[Path]:
    """Write every table, ``summary.json`` and ``manifest.json`` into ``out``, as one step
    (``results.xlsx`` too with ``xlsx``).

    Results that an earlier run wrote into the same folder (listed in its manifest) and this run
    did not are gone afterwards, so the folder never mixes two runs; every other file in it is kept.

    Parameters
    ----------
    run
        A run through the pipeline; tables are written only when it has a solution.
    out
        The results folder.
    command
        The command line, for the summary and the manifest.
    reads
        The files the run read (``RawInstance.inputs``), which ``out`` must not hold.

    Returns
    -------
    list[Path]
        The files written.

    Raises
    ------
    InputError
        If ``out`` is refused (:func:`check_out_dir`), or cannot be written (the previous run is
        then left whole).
    """
    out = Path(out)
    check_out_dir(out, reads)
    texts = result_texts(run, command, xlsx)
    write_folder(out, texts, replaces=files_of_earlier_run(out).__contains__)
    return [out / name for name in texts]


#: A name that one of our commands writes into a results folder (never a folder or a hidden file).
_OUTPUT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.(csv|png|json|html|gpkg|parquet|xlsx)$")


def files_of_earlier_run(out: Path) -> set[str]:
    """Results a previous run recorded in the manifest of ``out``: plain names of the kinds of
    files our commands write, and never a sweep's plan (``sweep.json``), which its cases need."""
    try:
        files = json.loads((Path(out) / "manifest.json").read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()
    if not isinstance(files, list):
        return set()
    return {f for f in files if isinstance(f, str) and _OUTPUT_NAME.match(f) and f != "sweep.json"} | {
        "manifest.json"}


def redraw_map(folder: Path) -> Path:
    """Draw ``map.png`` again from a results folder's ``network.gpkg`` and ``summary.json``.

    The manifest's hash of ``map.png`` is updated, so the folder stays whole. Raises an
    :class:`InputError` when the folder holds no network (not a results folder, or a run without
    a solution).
    """
    from siting.report.netmap import network_map
    from siting.report.network import read_network

    folder = Path(folder)
    where = str(folder)
    if not folder.is_dir():
        raise InputError(Problem(where, "is not a folder", "give the results folder of `siting solve`"))
    gpkg = folder / "network.gpkg"
    if not gpkg.is_file():
        raise InputError(Problem(where, "has no network.gpkg (not the results of a solved run)",
                                 "give a folder that `siting solve` wrote with a solution"))
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        layers = read_network(gpkg)
    except (OSError, ValueError) as exc:
        raise InputError(Problem(where, f"cannot read its results ({type(exc).__name__}: {exc})",
                                 "solve again to rewrite the folder")) from None
    except Exception as exc:  # a GeoPackage GDAL cannot open
        raise InputError(Problem(f"{where}/network.gpkg", f"cannot be read ({type(exc).__name__})",
                                 "solve again to rewrite the folder")) from None
    png = network_map(layers, map_title(summary), summary.get("units", {}).get("money", ""))
    manifest_path = folder / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    try:
        atomic_write(folder / "map.png", png)
        if isinstance(manifest, dict) and isinstance(manifest.get("sha256"), dict):
            manifest["sha256"]["map.png"] = file_hashes({"map.png": png})["map.png"]
            atomic_write(manifest_path, json.dumps(manifest, indent=2, allow_nan=False) + "\n")
    except OSError as exc:
        raise InputError(Problem(where, f"cannot write map.png there ({exc.strerror or exc})",
                                 "free some disk space, or make the folder writable")) from None
    return folder / "map.png"
