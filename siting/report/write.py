"""Write a run into its results folder: tables, ``summary.json`` and ``manifest.json``.

A results folder holds one run, whole: the files its ``manifest.json`` lists, each with its
SHA-256, and never a table of another run. The new run is written into a hidden folder beside the
results folder (``.NAME.siting-PID-XXXX``), together with links to the planner's own files found
in the old one, and the two folders are then swapped in one atomic step (Linux ``renameat2`` with
``RENAME_EXCHANGE``); the old run is deleted after. A run killed at any moment therefore leaves
either the previous results or the new ones, plus at worst a hidden folder that the next run into
the same place removes. Where the swap is not available (another operating system or file system,
a results folder that is the working directory or a mount point, a parent folder that is not
writable), each file is written to a temporary name and moved into place, the manifest last:
no file is ever half-written, but a run killed between two moves leaves a folder whose manifest
does not match its files.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import math
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from siting.errors import InputError, Problem

TABLE_FILES = ("sites", "capacity", "production", "procurement", "supplier_mix", "qualification",
               "unmet", "subsidies", "costs", "scenarios", "shadow_prices", "schedule", "periods", "local_share")
#: Files other than tables that a run writes: the network for GIS, its map and the report page.
PICTURE_FILES = ("network.gpkg", "map.png", "report.html")


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "unknown"


def json_safe(value):
    """JSON-safe value: NaN and infinities become None, numpy scalars plain numbers."""
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
        if "schedule" in res.tables:
            _phased_summary(summary, res, st)
        subs = res.tables["subsidies"]
        summary["government_outlay"] = float(subs["payout_per_year"].sum()) if len(subs) else 0.0
        summary["government_outlay_total"] = float(subs["payout_total"].sum()) if len(subs) else 0.0
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
    summary["screens"] = [f.as_dict() for f in run.screens]
    summary["diagnosis"] = [f.as_dict() for f in run.diagnosis]
    summary["numerics"] = out.numerics
    summary["solver"] = {"name": "highs", "version": _version("highspy"), "options": out.options,
                         "nodes": out.nodes}
    summary["instance"] = {"name": inst.name, "path": str(inst.path), "sha256": inst.sha256}
    summary["overrides"] = list(inst.overrides)
    if command is not None:
        summary["command"] = command
    return json_safe(summary)


def manifest_dict(run, command: list[str] | None = None) -> dict:
    """What anyone needs to reproduce a run."""
    return manifest_base(run.instance, run.options, command)


def manifest_base(inst, options, command: list[str] | None = None) -> dict:
    """The reproduction record of any command on a checked instance with solver options."""
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


#: Testing aid: seconds to pause after each step of writing the results (unset in normal use), so
#: that a test can kill a run in the middle of writing.
PAUSE_VARIABLE = "SITING_TEST_WRITE_PAUSE"


def _pause() -> None:
    pause = os.environ.get(PAUSE_VARIABLE)
    if pause:
        time.sleep(float(pause))


def atomic_write(path: Path, content: str | bytes) -> None:
    """Write ``content`` to a temporary file beside ``path`` and rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        if isinstance(content, bytes):
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_analysis(out: Path, files: dict[str, str | bytes], title: str, sections: list[tuple[str, str]],
                   manifest: dict, list_manifest: bool = False) -> list[str]:
    """An analysis's folder: ``files`` (name -> content, in order; the PNGs among them are also the
    page's pictures), ``report.html`` of ``sections`` (:func:`siting.report.html.analysis_page`) and,
    last, ``manifest.json``, which lists them (itself too with ``list_manifest``). Until the
    manifest is written the folder is visibly incomplete. Returns the names listed."""
    from siting.report.html import analysis_page

    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").unlink(missing_ok=True)
    for name, content in files.items():
        atomic_write(out / name, content)
    pictures = {name: content for name, content in files.items() if name.endswith(".png")}
    atomic_write(out / "report.html", analysis_page(title, sections, pictures, manifest))
    manifest["files"] = [*files, "report.html", *(["manifest.json"] if list_manifest else [])]
    atomic_write(out / "manifest.json", json.dumps(json_safe(manifest), indent=2) + "\n")
    return manifest["files"]


def _bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode("utf-8")


def file_hashes(texts: dict[str, str | bytes]) -> dict[str, str]:
    """SHA-256 of each file's content, by name."""
    return {name: hashlib.sha256(_bytes(text)).hexdigest() for name, text in texts.items()}


def result_texts(run, command: list[str] | None = None) -> dict[str, str | bytes]:
    """Every file of a run's results, by name, with ``manifest.json`` (last) listing the others
    and their SHA-256. A run with a solution also gets ``network.gpkg``, ``map.png`` and
    ``report.html``; every run gets ``report.html``."""
    from siting.report.charts import network_map
    from siting.report.html import report_page
    from siting.report.network import geopackage_bytes, network_layers

    tables = dict(run.results.tables) if run.results is not None else {}
    if run.shadow is not None:
        tables["shadow_prices"] = run.shadow
    texts: dict[str, str | bytes] = {f"{name}.csv": tables[name].to_csv(index=False, float_format="%.10g")
                                     for name in TABLE_FILES if name in tables}
    summary = summary_dict(run, command)
    texts["summary.json"] = json.dumps(summary, indent=2, allow_nan=False) + "\n"
    picture = None
    if run.results is not None:
        layers = network_layers(run)
        texts["network.gpkg"] = geopackage_bytes(layers)
        picture = network_map(layers, map_title(summary))
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


def write_run(run, out: Path, command: list[str] | None = None) -> list[Path]:
    """Write every table, ``summary.json`` and ``manifest.json`` into ``out``, as one step.

    Returns the files written. Tables are written only when the run has a solution. Tables that
    an earlier run wrote into the same folder (listed in its manifest) and this run did not are
    gone afterwards, so the folder never mixes two runs; every other file in it is kept.
    """
    out = Path(out)
    check_out_dir(out, run.instance.root)
    texts = result_texts(run, command)
    try:
        out.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(out)
        earlier = _files_of_earlier_run(out)
        if swap_available(out):
            try:
                _write_and_swap(out, texts, earlier)
                return [out / name for name in texts]
            except _NoSwap:
                pass
        _write_in_place(out, texts, earlier)
    except OSError as exc:
        raise InputError(Problem(f"--out {out}", f"cannot write there ({exc.strerror or exc})",
                                 "choose a folder you can write to")) from None
    return [out / name for name in texts]


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


def _staging_prefix(out: Path) -> str:
    return f".{out.resolve().name}.siting-"


def _remove_leftovers(out: Path) -> None:
    """Remove hidden folders that runs killed while writing to ``out`` left beside it."""
    real = out.resolve()
    if not real.parent.is_dir():
        return
    prefix = _staging_prefix(out)
    for entry in real.parent.iterdir():
        if not entry.name.startswith(prefix) or not entry.is_dir() or entry.is_symlink():
            continue
        pid = entry.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


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


def _write_and_swap(out: Path, texts: dict[str, str | bytes], earlier: set[str]) -> None:
    real = out.resolve()
    staging = Path(tempfile.mkdtemp(prefix=f"{_staging_prefix(out)}{os.getpid()}-", dir=real.parent))
    try:
        os.chmod(staging, real.stat().st_mode & 0o7777)
        ours = earlier | set(texts)
        for entry in real.iterdir():
            if entry.name not in ours and not _temporary(entry.name, ours):
                _link(entry, staging / entry.name)
        for name, text in texts.items():
            with open(staging / name, "wb") as fh:
                fh.write(_bytes(text))
                fh.flush()
                os.fsync(fh.fileno())
            _pause()
        _fsync_dir(staging)
        if _renameat2()(_AT_FDCWD, bytes(staging), _AT_FDCWD, bytes(real), _RENAME_EXCHANGE) != 0:
            code = ctypes.get_errno()
            if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
                raise _NoSwap()
            raise OSError(code, os.strerror(code))
        _fsync_dir(real.parent)
        _pause()
    finally:
        # before the swap the hidden folder holds the unfinished new run; after it, the old one
        shutil.rmtree(staging, ignore_errors=True)


def _temporary(name: str, ours: set[str]) -> bool:
    """A temporary file that a run writing in place left behind (``.sites.csv.XXXX``)."""
    return name.startswith(".") and any(name.startswith(f".{o}.") for o in ours)


def _link(src: Path, dst: Path) -> None:
    """Carry one of the planner's own entries into the new folder without copying its data."""
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        shutil.copytree(src, dst, symlinks=True, copy_function=_link_file)
    else:
        _link_file(src, dst)


def _link_file(src, dst) -> None:
    try:
        os.link(src, dst)
    except OSError:
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


def _write_in_place(out: Path, texts: dict[str, str | bytes], earlier: set[str]) -> None:
    for name, text in texts.items():
        if name != "manifest.json":
            atomic_write(out / name, text)
            _pause()
    for stale in earlier - set(texts):
        (out / stale).unlink(missing_ok=True)
    atomic_write(out / "manifest.json", texts["manifest.json"])


def _files_of_earlier_run(out: Path) -> set[str]:
    """Result files a previous run recorded in its manifest (only plain names of known tables)."""
    try:
        files = json.loads((out / "manifest.json").read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()
    known = {f"{t}.csv" for t in TABLE_FILES} | set(PICTURE_FILES)
    return {f for f in files if isinstance(f, str) and f in known}


def redraw_map(folder: Path) -> Path:
    """Draw ``map.png`` again from a results folder's ``network.gpkg`` and ``summary.json``.

    The manifest's hash of ``map.png`` is updated, so the folder stays whole. Raises an
    :class:`InputError` when the folder holds no network (not a results folder, or a run without
    a solution).
    """
    from siting.report.charts import network_map
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
    png = network_map(layers, map_title(summary))
    atomic_write(folder / "map.png", png)
    manifest_path = folder / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if isinstance(manifest, dict) and isinstance(manifest.get("sha256"), dict):
        manifest["sha256"]["map.png"] = file_hashes({"map.png": png})["map.png"]
        atomic_write(manifest_path, json.dumps(manifest, indent=2, allow_nan=False) + "\n")
    return folder / "map.png"
