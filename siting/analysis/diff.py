"""What changed between two results folders, and (with attribution) which input change moved what.

A results folder of ``siting solve`` keeps what is needed to rebuild its instance: the manifest's
instance path, the SHA-256 of the instance's files, and the ``--set`` overrides. No copy of the
instance is kept: :func:`rebuild` reads the instance at the recorded path and refuses, in one
line, when its files no longer have the recorded hash (the instance was edited since; restore it,
e.g. from version control, or solve again). Outputs are read from the folders' own files, so the
diff of outputs needs no solve.

Inputs compared: the instances' names, paths and hashes; every parameter ``--set`` can address
(:func:`siting.instance.overrides.addressable_paths`, settings included), after each run's
overrides, as (table, key, column, old, new); rows only one side has; the overrides; the solver
options and seed. Outputs compared: status, objective, gap and bound; sites opened or closed;
modules by site and product; supplier shares that moved by more than a threshold; cost by
category; local share by site; the policy maker's outlay; expected unmet demand.

Attribution replays the changed cells one at a time from A towards B through the one pipeline:
f(none) is A's instance, f(i) A's with change i alone, f(all) B's instance (all solved with the
same solver options); change i's effect is f(i) - f(none), and the interaction is what is left,
f(all) - f(none) - sum_i (f(i) - f(none)): the part of the change that no single input explains
(it also holds rows added or removed, which cannot be replayed as one cell).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from siting.errors import InputError, Problem
from siting.instance.overrides import addressable_paths, apply_overrides
from siting.instance.read import RawInstance, read_instance
from siting.solve import SolverOptions


@dataclass
class RunFolder:
    """A results folder as read: its manifest, summary and the tables a diff needs."""

    folder: Path
    manifest: dict
    summary: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def read_run(folder: str | Path) -> RunFolder:
    """Read a results folder of ``siting solve``; one-line :class:`InputError` when it is not one."""
    folder = Path(folder)
    where = str(folder)
    if not folder.is_dir():
        raise InputError(Problem(where, "is not a folder", "give a results folder of `siting solve`"))
    docs = {}
    for name in ("manifest.json", "summary.json"):
        try:
            docs[name] = json.loads((folder / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(Problem(where, f"has no {name}", "give a results folder of `siting solve`")) from None
        except (OSError, ValueError) as exc:
            raise InputError(Problem(f"{where}/{name}", f"cannot be read ({type(exc).__name__})",
                                     "solve again to rewrite the folder")) from None
    inst = docs["manifest.json"].get("instance")
    if not isinstance(inst, dict) or not inst.get("path") or not inst.get("sha256"):
        raise InputError(Problem(f"{where}/manifest.json", "does not record the instance's path and hash",
                                 "solve again with this version of siting"))
    run = RunFolder(folder=folder, manifest=docs["manifest.json"], summary=docs["summary.json"])
    for name in ("capacity", "supplier_mix"):
        path = folder / f"{name}.csv"
        if path.is_file():
            run.tables[name] = pd.read_csv(path, keep_default_na=False, na_values=[""])
    return run


def rebuild(run: RunFolder) -> RawInstance:
    """The run's instance with its overrides, read from the recorded path; refused (one line) when
    the files there no longer have the recorded hash."""
    from siting.errors import SitingError

    inst = run.manifest["instance"]
    path = Path(inst["path"])
    try:
        raw = read_instance(path)
    except SitingError:
        raise InputError(Problem(str(run.folder), f"its instance {path} cannot be read from here",
                                 "run the diff from the folder the run was solved in, or solve again")) from None
    if raw.sha256 != inst["sha256"]:
        raise InputError(Problem(str(run.folder), f"its instance {path} has changed since the run (hash "
                                                  f"{raw.sha256[:12]}, recorded {inst['sha256'][:12]})",
                                 "restore that version of the instance (e.g. from version control) or solve again"))
    return apply_overrides(raw, list(run.manifest.get("overrides", [])))


def _same(a: str | None, b: str | None) -> bool:
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return x == y or (math.isnan(x) and math.isnan(y))


def _blank(v: str | None) -> bool:
    return v is None or v in ("", "None", "nan")


def input_changes(a: RawInstance, b: RawInstance) -> pd.DataFrame:
    """One row per changed parameter: ``path, table, key, column, a, b`` (a value missing on one
    side is a row only the other has)."""
    pa, pb = addressable_paths(a), addressable_paths(b)
    rows = []
    for path in list(pa) + [p for p in pb if p not in pa]:
        va, vb = pa.get(path), pb.get(path)
        if _same(va, vb) or (_blank(va) and _blank(vb)):
            continue
        table, rest = path.split(".", 1)
        key, column = rest.rsplit(".", 1) if table != "settings" else ("", rest)
        rows.append({"path": path, "table": table, "key": key, "column": column,
                     "a": "" if _blank(va) else va, "b": "" if _blank(vb) else vb,
                     "replayable": path in pa and path in pb})
    return pd.DataFrame(rows, columns=["path", "table", "key", "column", "a", "b", "replayable"])


def _sites(summary: dict) -> dict:
    return {s["id"]: s for s in summary.get("sites", [])}


def output_changes(a: RunFolder, b: RunFolder, threshold: float = 0.05) -> pd.DataFrame:
    """One row per output that differs: ``section, item, key, a, b, difference``."""
    sa, sb = a.summary, b.summary
    rows: list[dict] = []

    def add(section, item, key, va, vb, numeric=True):
        if numeric:
            x = float("nan") if va is None else float(va)
            y = float("nan") if vb is None else float(vb)
            if (math.isnan(x) and math.isnan(y)) or abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y)):
                return
            rows.append({"section": section, "item": item, "key": key, "a": x, "b": y, "difference": y - x})
        elif va != vb:
            rows.append({"section": section, "item": item, "key": key, "a": va, "b": vb, "difference": None})

    add("solve", "status", "", sa.get("status"), sb.get("status"), numeric=False)
    for k in ("objective", "mip_gap", "best_bound"):
        add("solve", k, "", sa.get(k), sb.get(k))
    ta, tb = _sites(sa), _sites(sb)
    for s in list(ta) + [s for s in tb if s not in ta]:
        oa, ob = bool(ta.get(s, {}).get("open")), bool(tb.get(s, {}).get("open"))
        if oa != ob:
            rows.append({"section": "sites", "item": "opened" if ob else "closed", "key": s,
                         "a": oa, "b": ob, "difference": None})
        if oa and ob:
            add("local share", "local_share", s, ta[s].get("local_share"), tb[s].get("local_share"))
    ca, cb = a.tables.get("capacity"), b.tables.get("capacity")
    if ca is not None and cb is not None:
        ma = {(r.site, r.product): r.modules for r in ca.itertuples()}
        mb = {(r.site, r.product): r.modules for r in cb.itertuples()}
        for k in list(ma) + [k for k in mb if k not in ma]:
            add("modules", "modules", "/".join(k), ma.get(k, 0), mb.get(k, 0))
    xa, xb = a.tables.get("supplier_mix"), b.tables.get("supplier_mix")
    # a site opened or closed is said once above; its whole supplier mix changing says nothing more
    both = {s for s in ta if ta[s].get("open") and tb.get(s, {}).get("open")}
    if xa is not None and xb is not None:
        xa, xb = xa[xa["site"].isin(both)], xb[xb["site"].isin(both)]
        key = ["site", "input", "supplier"]
        ga = xa.groupby(key)["share"].mean().to_dict() if len(xa) else {}
        gb = xb.groupby(key)["share"].mean().to_dict() if len(xb) else {}
        for k in list(ga) + [k for k in gb if k not in ga]:
            va, vb = ga.get(k, 0.0), gb.get(k, 0.0)
            if abs(vb - va) > threshold:
                add("supplier mix", "share", "/".join(k), va, vb)
    costs_a, costs_b = sa.get("costs", {}), sb.get("costs", {})
    for c in list(costs_a) + [c for c in costs_b if c not in costs_a]:
        add("costs", c, "", costs_a.get(c, 0.0), costs_b.get(c, 0.0))
    add("outlay", "government_outlay", "", sa.get("government_outlay"), sb.get("government_outlay"))
    add("unmet", "unmet_demand", "", sa.get("unmet_demand"), sb.get("unmet_demand"))
    return pd.DataFrame(rows, columns=["section", "item", "key", "a", "b", "difference"])


def run_changes(a: RunFolder, b: RunFolder) -> pd.DataFrame:
    """Instance identity, overrides and solver options that differ: ``item, a, b``."""
    rows = []
    ia, ib = a.manifest["instance"], b.manifest["instance"]
    for k in ("name", "path", "sha256"):
        if ia.get(k) != ib.get(k):
            rows.append({"item": f"instance {k}", "a": ia.get(k), "b": ib.get(k)})
    oa, ob = a.manifest.get("overrides", []), b.manifest.get("overrides", [])
    if oa != ob:
        rows.append({"item": "overrides", "a": " ".join(oa), "b": " ".join(ob)})
    sa, sb = a.manifest.get("solver_options", {}), b.manifest.get("solver_options", {})
    for k in list(sa) + [k for k in sb if k not in sa]:
        if sa.get(k) != sb.get(k):
            rows.append({"item": f"solver option {k}", "a": sa.get(k), "b": sb.get(k)})
    return pd.DataFrame(rows, columns=["item", "a", "b"])


# --------------------------------------------------------------------------------------------
# attribution


def _replay(item: tuple) -> dict:
    """Solve one replay (module level, so that workers can run it): the plan and its cost."""
    from siting.report.extract import open_sites
    from siting.run import run_case

    raw, options, sets, label = item
    run = run_case(raw, options, sets=list(sets), duals=False)
    out = {"label": label, "status": run.outcome.status, "objective": run.outcome.objective,
           "mip_gap": run.outcome.mip_gap, "sites": [], "modules": {}}
    if run.results is not None:
        out["sites"] = [s for s, _ in open_sites(run.results)]
        cap = run.results.tables["capacity"]
        out["modules"] = {f"{s}/{p}": int(n) for s, p, n in cap[["site", "product", "modules"]].itertuples(index=False)}
    return out


@dataclass
class Attribution:
    """Each change's effect on cost and plan, and the interaction left over."""

    table: pd.DataFrame
    base: dict
    target: dict
    money: str

    def words(self) -> list[str]:
        total = self.target["objective"] - self.base["objective"]
        lines = []
        for _, r in self.table.iterrows():
            moved = "; ".join(x for x in (f"opened {r['opened']}" if r["opened"] else "",
                                          f"closed {r['closed']}" if r["closed"] else "",
                                          f"modules {r['modules']}" if r["modules"] else "") if x)
            if r["change"] == "interaction":
                lines.append(f"interaction of the changes (what no single change explains): "
                             f"{r['cost_effect']:+,.3f} of the {total:+,.3f} {self.money}/yr")
                continue
            lines.append(f"{r['change']} from {r['a']} to {r['b']} " + (moved or "moved no decision")
                         + f": {r['cost_effect']:+,.3f} of the {total:+,.3f} {self.money}/yr")
        return lines


def _moved(base: dict, other: dict) -> dict:
    opened = [s for s in other["sites"] if s not in base["sites"]]
    closed = [s for s in base["sites"] if s not in other["sites"]]
    keys = list(base["modules"]) + [k for k in other["modules"] if k not in base["modules"]]
    mods = [f"{k} {base['modules'].get(k, 0)}->{other['modules'].get(k, 0)}" for k in keys
            if base["modules"].get(k, 0) != other["modules"].get(k, 0)]
    return {"opened": ", ".join(opened), "closed": ", ".join(closed), "modules": ", ".join(mods)}


def attribute(raw_a: RawInstance, raw_b: RawInstance, changes: pd.DataFrame, options: SolverOptions,
              workers: int = 1, progress: Callable | None = None) -> Attribution:
    """Replay each replayable change alone from A, then A and B themselves (see the module docstring).

    Raises
    ------
    NoPlan
        When A's or B's instance has no plan.
    """
    from siting.analysis.parallel import each_result
    from siting.errors import NoPlan

    replay = changes[changes["replayable"]]
    items = [(raw_a, options, (), "A"), (raw_b, options, (), "B")]
    items += [(raw_a, options, (f"{r['path']}={r['b']}",), r["path"]) for _, r in replay.iterrows()]
    results = {}
    for res in each_result(_replay, items, workers=workers, ordered=False):
        results[res["label"]] = res
        if progress:
            progress(res, f"{res['label']}: {res['status']}")
    base, target = results["A"], results["B"]
    for side, res in (("A", base), ("B", target)):
        if res["objective"] is None:
            raise NoPlan(Problem(f"run {side}", f"its instance is {res['status']} when solved again, so there is "
                                 "nothing to attribute", "solve that run's instance again (its command is in its "
                                 "manifest.json) to see why"))
    rows, explained = [], 0.0
    for _, r in replay.iterrows():
        res = results[r["path"]]
        effect = None if res["objective"] is None else res["objective"] - base["objective"]
        explained += effect or 0.0
        rows.append({"change": r["path"], "table": r["table"], "key": r["key"], "column": r["column"],
                     "a": r["a"], "b": r["b"], "status": res["status"], "objective": res["objective"],
                     "cost_effect": effect, **_moved(base, res)})
    total = target["objective"] - base["objective"]
    rows.append({"change": "interaction", "table": "", "key": "", "column": "", "a": "", "b": "", "status": "",
                 "objective": None, "cost_effect": total - explained, **_moved(base, target)})
    table = pd.DataFrame(rows)
    table["share_of_total"] = [e / total if e is not None and abs(total) > 1e-12 else math.nan
                               for e in table["cost_effect"]]
    money = raw_a.settings.get("currency", "USD")
    unit = raw_a.settings.get("money_unit", "million")
    return Attribution(table=table, base=base, target=target, money=money if unit == "one" else f"{money} {unit}")


@dataclass
class Diff:
    """Everything ``siting diff`` reports."""

    runs: pd.DataFrame
    inputs: pd.DataFrame
    outputs: pd.DataFrame
    attribution: Attribution | None = None

    def table(self) -> pd.DataFrame:
        """``diff.csv``: one row per difference, inputs first (``kind`` input, run or output)."""
        parts = [pd.DataFrame({"kind": "run", "section": "run", "item": self.runs["item"], "key": "",
                               "a": self.runs["a"], "b": self.runs["b"]}),
                 pd.DataFrame({"kind": "input", "section": self.inputs["table"], "item": self.inputs["column"],
                               "key": self.inputs["key"], "a": self.inputs["a"], "b": self.inputs["b"]}),
                 self.outputs.assign(kind="output")]
        cols = ["kind", "section", "item", "key", "a", "b", "difference"]
        return pd.concat([p.reindex(columns=cols) for p in parts if len(p)], ignore_index=True).reindex(columns=cols)

    def as_dict(self) -> dict:
        out = {"runs": self.runs.to_dict("records"), "inputs": self.inputs.to_dict("records"),
               "outputs": self.outputs.to_dict("records")}
        if self.attribution is not None:
            out["attribution"] = self.attribution.table.to_dict("records")
            out["message"] = self.attribution.words()
        return out


def diff(folder_a: str | Path, folder_b: str | Path, threshold: float = 0.05,
         attribute_with: SolverOptions | None = None, workers: int = 1, progress: Callable | None = None) -> Diff:
    """Compare two results folders; with ``attribute_with`` (solver options) also attribute the change."""
    a, b = read_run(folder_a), read_run(folder_b)
    raw_a, raw_b = rebuild(a), rebuild(b)
    result = Diff(runs=run_changes(a, b), inputs=input_changes(raw_a, raw_b), outputs=output_changes(a, b, threshold))
    if attribute_with is not None:
        result.attribution = attribute(raw_a, raw_b, result.inputs, attribute_with, workers, progress)
    return result


def write_diff(result: Diff, out: Path, manifest: dict) -> list[str]:
    """``diff.csv`` (and ``attribution.csv``), ``report.html`` and, last, ``manifest.json``."""
    from html import escape

    from siting.report.html import table_html
    from siting.report.write import write_analysis

    files = {"diff.csv": result.table().to_csv(index=False, float_format="%.10g")}
    sections = [("Runs", table_html(result.runs)), ("Inputs changed", table_html(result.inputs)),
                ("Outputs changed", table_html(result.outputs))]
    if result.attribution is not None:
        files["attribution.csv"] = result.attribution.table.to_csv(index=False, float_format="%.10g")
        words = "".join(f"<li>{escape(line)}</li>" for line in result.attribution.words())
        sections.append(("Which change moved what", f"<ul>{words}</ul>" + table_html(result.attribution.table)))
    return write_analysis(out, files, "What changed between two runs", sections, manifest)
