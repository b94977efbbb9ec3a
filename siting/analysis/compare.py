"""Subsidy designs side by side: every policy package solved through the one pipeline.

Each package (:mod:`siting.instance.designs`) is applied to the instance and solved by
:func:`siting.run.run_case`. One row per package reports the firm's annual cost, the policy
maker's outlay (annualised and undiscounted), the plan, domestic capacity, local shares, unmet
demand and what each outcome costs the government, also measured against ``none``.

Definitions (money in the instance's money unit; ``_per_year`` annualised like every cost):

* ``outlay_per_year``, ``outlay_total``: payouts of instruments whose provider is the policy
  country (every instrument when no policy country is set); a concessional loan counts by its
  grant element (the interest forgone, as a present value at the firm's rate), and the principal
  it lends (repaid) is ``loan_principal_total``;
* ``domestic_capacity``: wafers a year of capacity built at sites in the policy country;
* ``domestic_local_share``: local share at the open domestic sites, weighted by their capacity;
* ``outlay_per_domestic_wafer``: outlay a year per wafer a year of domestic capacity (currency);
* ``outlay_per_local_point``: outlay a year per percentage point of domestic local share;
* ``outlay_present_value`` (phased instances only): the present value of that outlay as the
  objective counts it; ``firm_cost`` is then a net present value too, and the console shows both;
* ``*_vs_none``: the difference to the ``none`` package, and ``incremental_*`` the ratios of those
  differences (what the package's extra outlay buys).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from siting.analysis.parallel import map_cases
from siting.errors import SitingError
from siting.instance.designs import Package, apply_package
from siting.instance.read import RawInstance
from siting.report.figures import per_unit, plan_figures, plan_label
from siting.run import Run, run_case
from siting.solve import SolverOptions


def package_row(package: Package, run: Run) -> dict:
    """The comparison row of one solved package.

    Parameters
    ----------
    package
        The policy package the run solved.
    run
        Its run through the pipeline.

    Returns
    -------
    dict
        The columns of ``compare.csv`` (module docstring) for this package; without a plan only
        the status, objective and the solver's note.
    """
    inst, out = run.instance, run.outcome
    country = inst.settings.policy_country
    row = {"package": package.name, "description": package.description, "policy_country": country or "",
           "status": out.status, "firm_cost": out.objective, "mip_gap": out.mip_gap, "best_bound": out.best_bound}
    res = run.results
    if res is None:
        row["note"] = out.termination
        return row
    plan = plan_figures(res)
    outlay = plan.outlay(country)
    row["outlay_per_year"] = outlay.per_year
    row["outlay_total"] = outlay.total
    row["outlay_all_governments_per_year"] = plan.outlay().per_year
    row["loan_principal_total"] = outlay.loan_principal_total
    subs = res.tables["subsidies"]
    if "payout_present_value" in subs and res.tables.get("schedule") is not None:
        # a phased plan: its outlay as a present value, like its cost
        mine = subs if not country else subs[subs["provider_country"] == country]
        row["outlay_present_value"] = float(mine["payout_present_value"].sum())
    row["sites_open"] = plan.label(sep="; ", unit="")
    row["domestic_capacity"] = plan.domestic_capacity(country)
    share = row["domestic_local_share"] = plan.domestic_local_share(country)
    row.update(plan.site_columns())
    row["expected_unmet"] = res.risk["expected_unmet"]
    row["outlay_per_domestic_wafer"] = plan.outlay_per_domestic_wafer(country, inst.settings.money_multiplier)
    row["outlay_per_local_point"] = per_unit(outlay.per_year, 100 * share)
    row["checks_passed"] = not run.violations
    row["note"] = "; ".join(run.violations)
    return row


def add_differences(df: pd.DataFrame, money: float, references: pd.DataFrame | None = None) -> pd.DataFrame:
    """Differences to ``none`` measured for the same policy country, and the incremental ratios.

    ``references`` holds ``none`` rows for policy countries other than its own in ``df`` (a
    package may name its own country; ``none`` is then measured again for it). Where ``none``
    builds nothing at home its local share counts as 0: the package's whole share is its gain.
    """
    cols = ("firm_cost", "outlay_per_year", "domestic_capacity", "domestic_local_share",
            *(("outlay_present_value",) if "outlay_present_value" in df else ()))
    nones = pd.concat([df[df["package"] == "none"], references if references is not None else df.iloc[0:0]])
    nones = nones[nones["status"].isin(("optimal", "feasible"))] if "status" in nones else nones
    by_country = {r["policy_country"]: r for _, r in nones.iterrows()} if "outlay_per_year" in df else {}
    for c in cols:
        df[f"{c}_vs_none"] = np.nan
    for i, row in df.iterrows():
        ref = by_country.get(row.get("policy_country", ""))
        if ref is None or row["status"] not in ("optimal", "feasible"):
            continue
        for c in cols:
            base = ref[c]
            if c == "domestic_local_share" and math.isnan(base) and ref["domestic_capacity"] == 0:
                base = 0.0
            df.at[i, f"{c}_vs_none"] = row[c] - base
    df["incremental_outlay_per_domestic_wafer"] = [
        per_unit(o * money, c) for o, c in zip(df["outlay_per_year_vs_none"], df["domestic_capacity_vs_none"])]
    df["incremental_outlay_per_local_point"] = [
        per_unit(o, 100 * s) for o, s in zip(df["outlay_per_year_vs_none"], df["domestic_local_share_vs_none"])]
    return df


def _solve_package(args: tuple) -> dict:
    raw, package, options = args
    try:
        run = run_case(apply_package(raw, package), options, duals=False)
    except SitingError as exc:
        return {"package": package.name, "description": package.description, "status": "error", "note": str(exc)}
    return package_row(package, run)


def compare(raw: RawInstance, packages: list[Package], options: SolverOptions, workers: int = 1,
            progress=None) -> pd.DataFrame:
    """Solve every package (in ``workers`` processes) and return one row per package, in order.

    Every package is applied and checked before any is solved, so a bad package stops the run at
    once with its problems (exit 2) instead of failing half-way.

    Parameters
    ----------
    raw
        The instance as read.
    packages
        The policy packages (:func:`siting.instance.designs.read_designs`).
    options
        HiGHS's options for every package.
    workers
        Local worker processes.
    progress
        Called as each package finishes.

    Returns
    -------
    pandas.DataFrame
        One row per package (:func:`package_row`), with the differences to ``none``
        (:func:`add_differences`).
    """
    from siting.run import load_case

    countries = {}
    for p in packages:
        countries[p.name] = load_case(apply_package(raw, p)).settings.policy_country
    # `none` measured again for every other policy country a package names, so that each package
    # is compared with no subsidy from its own policy maker's point of view
    none = next((p for p in packages if p.name == "none"), None)
    extra = [] if none is None else [replace(none, policy_country=c) for c in sorted(set(countries.values()))
                                     if c != countries["none"]]
    rows = map_cases(_solve_package, [(raw, p, options) for p in [*packages, *extra]], workers, progress)
    df = pd.DataFrame(rows[:len(packages)])
    references = pd.DataFrame(rows[len(packages):]) if extra else None
    money = load_case(raw).settings.money_multiplier
    return add_differences(df, money, references)


def write_comparison(df: pd.DataFrame, out: Path, base, options: SolverOptions, command: list[str],
                     designs: Path) -> list[str]:
    """Write compare.csv, compare.png, report.html and, last, manifest.json into ``out``.

    Parameters
    ----------
    df
        The comparison, one row per package (:func:`compare`).
    out
        The folder.
    base
        The checked instance (money unit, manifest).
    options
        The solver options, for the manifest.
    command
        The command line, for the manifest.
    designs
        The designs file, recorded with its SHA-256.

    Returns
    -------
    list[str]
        The names ``manifest.json`` lists.
    """
    import hashlib

    from siting.report import charts
    from siting.report.html import table_html
    from siting.report.write import manifest_base, write_analysis

    files = {"compare.csv": df.to_csv(index=False, float_format="%.10g")}
    solved = df[df["status"].isin(("optimal", "feasible"))]
    if len(solved):
        files["compare.png"] = charts.compare_bars(solved, base.settings.money_label)
    manifest = manifest_base(base, options, command)
    manifest["designs"] = {"path": str(designs), "sha256": hashlib.sha256(designs.read_bytes()).hexdigest()}
    money = base.settings.money_label
    cols = ["package", "description", "policy_country", "status", "firm_cost", "mip_gap", "outlay_present_value",
            "outlay_per_year", "outlay_total", "loan_principal_total", "sites_open", "domestic_capacity",
            "domestic_local_share",
            "expected_unmet", "outlay_per_domestic_wafer", "outlay_per_local_point", "firm_cost_vs_none",
            "outlay_per_year_vs_none", "domestic_capacity_vs_none", "incremental_outlay_per_domestic_wafer"]
    phased = ("; the firm cost is a net present value and outlay_present_value the outlay's present value"
              if "outlay_present_value" in df else "")
    sections = [("Packages", f"<p>{len(df)} packages from {designs.name}; money in {money} (per year: "
                             f"annualised like every cost; total: undiscounted{phased}).</p>"),
                ("Outlay and the capacity it buys", "{compare.png}"),
                ("Every package", table_html(df, [c for c in cols if c in df.columns]))]
    return write_analysis(out, files, f"{base.name}: subsidy designs", sections, manifest)


def print_comparison(console, df: pd.DataFrame, money: str, currency: str) -> None:
    """The comparison as a console table, then the ratios against ``none``.

    Parameters
    ----------
    console
        A rich console (:func:`siting.report.console.make_console`).
    df
        The comparison, one row per package (:func:`compare`).
    money, currency
        The money unit's label (firm cost, outlay) and the currency (outlay per wafer).
    """
    from rich.markup import escape
    from rich.table import Table

    countries = df["policy_country"].fillna("") if "policy_country" in df else pd.Series("", index=df.index)
    mixed = countries.nunique() > 1
    country = countries.iloc[0] if len(df) else ""
    whose = ("outlay, home capacity and its local share for each package's policy country [in brackets]" if mixed
             else f"outlay of {country or 'every government'}; home: capacity in {country or '-'} and its local share")
    phased = "outlay_present_value" in df and df["outlay_present_value"].notna().any()
    terms = (f"firm cost (net present value) and outlay (present value) in {money}" if phased
             else f"firm cost and outlay in {money}/yr")
    per = "" if phased else "/yr"
    t = Table(title=escape(f"Subsidy designs: {terms} (total: undiscounted); {whose}; "
                           f"{currency}/wafer: outlay a year per home wafer a year"), title_justify="left")
    unmet = "expected_unmet" in df and df["expected_unmet"].fillna(0).abs().max() > 0
    heads = ("package", "firm cost", "outlay", "total", "sites (k wafers/yr)", "home k", "local",
             *(("unmet",) if unmet else ()), f"{currency}/wafer")
    names = [escape(f"{p} [{c}]" if mixed and c else str(p)) for p, c in zip(df["package"], countries)]
    site_ids = [c.removeprefix("open_") for c in df.columns if c.startswith("open_")]
    width = max([len(n) for n in names] + [7])
    for h in heads:
        t.add_column(h, justify="left" if h in ("package", "sites (k wafers/yr)") else "right",
                     no_wrap=True, min_width=width if h == "package" else None)

    def num(x, fmt="{:,.1f}"):
        return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)

    for name, (_, r) in zip(names, df.iterrows()):
        if r["status"] not in ("optimal", "feasible"):
            t.add_row(name, r["status"], *["-"] * (len(heads) - 3), str(r.get("note", ""))[:40])
            continue
        sites = plan_label([(s, r[f"capacity_{s}"] / 1000) for s in site_ids if r[f"open_{s}"]], sep=", ", unit="")
        outlay = r["outlay_present_value"] if phased else r["outlay_per_year"]
        t.add_row(name, num(r["firm_cost"]), num(outlay), num(r["outlay_total"], "{:,.0f}"),
                  sites, num(r["domestic_capacity"] / 1000 if r["policy_country"] else math.nan, "{:,.0f}"),
                  num(r["domestic_local_share"], "{:.1%}"), *((num(r["expected_unmet"], "{:,.0f}"),) if unmet else ()),
                  num(r["outlay_per_domestic_wafer"], "{:,.0f}"))
    console.print(t)
    rows = df[df["status"].isin(("optimal", "feasible")) & (df["package"] != "none")]
    if "firm_cost_vs_none" in df and df["firm_cost_vs_none"].notna().any():
        console.print("against no subsidy (none):")
        for _, r in rows.iterrows():
            outlay = r["outlay_present_value_vs_none"] if phased else r["outlay_per_year_vs_none"]
            words = (f"  {r['package']}: outlay {num(outlay, '{:+,.1f}')}{per}, "
                     f"firm cost {num(r['firm_cost_vs_none'], '{:+,.1f}')}{per}")
            if not math.isnan(r["outlay_per_local_point"]):
                words += f", {num(r['outlay_per_local_point'], '{:,.2f}')}/yr per point of local share"
            if r["policy_country"]:
                words += f", domestic capacity {num(r['domestic_capacity_vs_none'], '{:+,.0f}')} wafers/yr"
                if not math.isnan(r["incremental_outlay_per_domestic_wafer"]):
                    words += (f" ({num(r['incremental_outlay_per_domestic_wafer'], '{:,.0f}')} {currency} of outlay "
                              "a year per extra domestic wafer)")
            console.print(words, soft_wrap=True)
    gaps = df["mip_gap"].dropna() if "mip_gap" in df else pd.Series(dtype=float)
    if len(gaps):
        console.print(f"largest MIP gap of any package: {gaps.max():.4%}")
