"""Rules that the tables make vacuous: valid rows that can never act, so their meaning is lost silently.

Each of these rows passes every check on its own, yet the rest of the instance makes it do
nothing: offers of an input that no bill of materials uses are never bought; a local-share target
at a site that can buy nothing that counts holds at zero purchases; an instrument offered only at
sites that can never open never pays; a concentration limit, exclusion, tariff, program budget,
freight rate or lane that selects nothing never applies; a policy country with no site and no
paying government counts nothing; an input marked critical with no minimum number of suppliers
anywhere, or given a minimum while not critical, requires nothing. A planner who wrote such a row
meant something by it, so each one is reported as a warning (the solve goes on) in the
``location | problem; fix`` form, by ``siting validate`` and in a solve's ``summary.json``
(``screens``, ``rule`` = ``vacuous``).

The findings read only the checked tables and the derived ones (pandas, no model).
"""

from __future__ import annotations

from siting.errors import Problem, visible
from siting.instance.check import _rows
from siting.instance.derive import Derived
from siting.instance.schema import TABLES, key_label


def vacuous_rules(d: Derived) -> list[Problem]:
    """Every vacuous rule of the instance behind ``d``, one problem each, grouped by kind.

    Parameters
    ----------
    d
        The derived data of a checked instance (the arcs and routes say what can be shipped).

    Returns
    -------
    list of Problem
        One ``location | problem; fix`` line per vacuous row; empty when every rule can act.
    """
    inst = d.instance
    t = inst.tables

    def origin(tname: str) -> str:
        if tname in inst.origins:
            return inst.origins[tname]
        # an absent table is named as its siblings are: a sheet of the same workbook, or a CSV file
        sites = inst.origins.get("sites", "")
        return f"{sites[:-len('[sites]')]}[{tname}]" if sites.endswith("[sites]") else f"{tname}.csv"

    def loc(tname: str, row_no, row: dict) -> str:
        return f"{origin(tname)} row {row_no} {key_label(TABLES[tname], row)}"

    sites = t["sites"]
    closed = set(sites.loc[sites["status"] == "closed", "id"])
    makes: dict[str, set] = {}
    for s, p in zip(d.modules["site"].tolist(), d.modules["product"].tolist()):
        makes.setdefault(s, set()).add(p)
    out: list[Problem] = []
    out += _unused_offers(t, origin)
    out += _idle_targets(d, loc, closed, makes)
    out += _idle_instruments(d, loc, closed, makes)
    out += _empty_groups(d, loc)
    out += _idle_trade_rules(d, loc)
    out += _idle_supplier_rules(d, loc)
    return out


def ignored_columns(inst) -> list[Problem]:
    """A column that is no column of its table (a planner's ``notes``): kept, read by nothing.

    Said once per table and column, with the table's columns, so that a misspelt optional column
    (whose values would otherwise be lost without a word) shows; a misspelling close to a column
    the table lacks is refused when the instance is checked.
    """
    out = []
    for tname, df in inst.tables.items():
        names = TABLES[tname].names
        for c in df.columns:
            if c not in names:
                where = inst.origins.get(tname, f"{tname}.csv")
                out.append(Problem(f"{where} column {visible(str(c))}", f"is not a {tname} column and is ignored",
                                   f"rename it if it was meant as one of: {', '.join(names)}"))
    return out


def _idle_supplier_rules(d: Derived, loc) -> list[Problem]:
    """min_suppliers acts only on critical inputs, and critical only with a minimum to require."""
    inputs = d.instance.tables["inputs"]
    default = d.instance.settings.min_suppliers
    out = []
    for row_no, r in _rows(TABLES["inputs"], inputs, "critical", "min_suppliers"):
        k = r["min_suppliers"]
        given = k is not None and k == k
        if r["critical"] and not given and default is None:
            out.append(Problem(f"{loc('inputs', row_no, r)} column critical",
                               "is true but neither min_suppliers nor settings.min_suppliers is set, so it "
                               "requires nothing", "give min_suppliers (e.g. 2) or set settings.min_suppliers"))
        elif given and not r["critical"]:
            out.append(Problem(f"{loc('inputs', row_no, r)} column min_suppliers",
                               f"is {k:g} but critical is false, so it applies nowhere",
                               "set critical to true or clear min_suppliers"))
    return out


def _why_idle(s: str, closed: set, makes: dict) -> str | None:
    """Why site ``s`` can never produce, or None if it can."""
    if s in closed:
        return f"{s} is closed by its status"
    if s not in makes:
        return f"{s} has no modules row with max_modules above 0"
    return None


def _unused_offers(t: dict, origin) -> list[Problem]:
    offers, bom = t["offers"], t["bom"]
    if offers.empty:
        return []
    if bom.empty:
        return [Problem(origin("bom"), f"has no rows, so nothing is bought: the {len(offers)} offers are never used",
                        "add the bill of materials (product, input, units_per_wafer)")]
    used = set(bom["input"].tolist())
    unused: dict[str, list] = {}
    for row_no, s, i in zip(offers.index.tolist(), offers["supplier"].tolist(), offers["input"].tolist()):
        if i not in used:
            unused.setdefault(i, []).append((row_no, s))
    out = []
    for i, rows in unused.items():
        if len(rows) == 1:
            where, what = f"{origin('offers')} row {rows[0][0]} (supplier={rows[0][1]}, input={i})", "this offer is"
        else:
            where = f"{origin('offers')} rows {', '.join(str(n) for n, _ in rows)} (input={i})"
            what = "these offers are"
        out.append(Problem(where, f"no bill of materials uses {i}, so {what} never bought",
                           f"add {i} to the bom of a product or remove the offers"))
    return out


def _idle_targets(d: Derived, loc, closed: set, makes: dict) -> list[Problem]:
    t = d.instance.tables
    if t["local_targets"].empty:
        return []
    inputs = t["inputs"]
    counts = dict(zip(inputs["id"].tolist(), inputs["counts_for_local"].tolist()))
    uses: dict[str, set] = {}
    for p, i in zip(d.bom["product"].tolist(), d.bom["input"].tolist()):
        uses.setdefault(p, set()).add(i)
    targets = set(t["local_targets"]["site"].tolist())
    at = d.arcs["site"].isin(targets).to_numpy()
    reach = set(zip(d.arcs["site"].to_numpy()[at].tolist(), d.arcs["input"].to_numpy()[at].tolist()))
    out = []
    for row_no, r in _rows(TABLES["local_targets"], t["local_targets"], "target"):
        s, tau = r["site"], r["target"]
        if not tau > 0:
            continue
        why = _why_idle(s, closed, makes)
        if why is None:
            used = {i for p in makes[s] for i in uses.get(p, ())}
            counted = {i for i in used if counts.get(i, True)}
            if not used:
                why = f"no product {s} can make has a bill of materials"
            elif not counted:
                why = f"no product {s} can make uses an input with counts_for_local true"
            elif not any((s, i) in reach for i in counted):
                why = f"no supplier can deliver {', '.join(sorted(counted))} to {s} (no offer, or every one excluded)"
        if why:
            out.append(Problem(loc("local_targets", row_no, r),
                               f"{s} can buy nothing that counts ({why}), so its {tau:.0%} target never binds",
                               "fix the tables that make it idle or remove the target"))
    return out


def _idle_instruments(d: Derived, loc, closed: set, makes: dict) -> list[Problem]:
    t = d.instance.tables
    offered: dict[str, list] = {}
    for i, s in zip(d.instruments["id"].tolist(), d.instruments["site"].tolist()):
        offered.setdefault(i, []).append(s)
    out = []
    for row_no, r in _rows(TABLES["instruments"], t["instruments"], "kind", "product"):
        at = offered.get(r["id"], [])
        if not at:
            continue  # a scope with no site is refused by the checks
        kind = r["kind"]
        # a lump sum pays on opening alone; every other kind needs capex or output
        reasons = [f"{s} is closed by its status" if s in closed
                   else None if kind == "lump_sum" else _why_idle(s, closed, makes) for s in at]
        if all(reasons):
            out.append(Problem(loc("instruments", row_no, r),
                               f"is offered only where it can never pay: {'; '.join(reasons)}",
                               "offer it at a site that can open and produce, or remove it"))
            continue
        product = r["product"]
        if kind == "production_subsidy" and isinstance(product, str) and product and not any(
                product in makes.get(s, ()) for s in at if s not in closed):
            out.append(Problem(loc("instruments", row_no, r),
                               f"pays for {product}, which no site it is offered at can make",
                               "add modules for it there or change the product"))
    programs = set(t["instruments"]["program"].dropna().tolist())
    for row_no, r in _rows(TABLES["programs"], t["programs"]):
        if r["id"] not in programs:
            out.append(Problem(loc("programs", row_no, r),
                               f"no instrument names program {r['id']}, so its budget limits nothing",
                               f"set program={r['id']} on its instruments or remove the row"))
    return out


def _empty_groups(d: Derived, loc) -> list[Problem]:
    t = d.instance.tables
    out = []
    limits = _rows(TABLES["concentration"], t["concentration"], "group_type", "group")
    for (_, _, members), (row_no, r) in zip(d.concentration, limits):
        if not members:
            what = r["group_type"].replace("_", " ")
            out.append(Problem(loc("concentration", row_no, r),
                               f"no candidate site is in {what} {r['group']}, so the limit never binds",
                               f"name a {what} of the sites or remove the row"))
    sup = t["suppliers"]
    for row_no, r in _rows(TABLES["exclusions"], t["exclusions"], "supplier_country", "supplier_flag"):
        country, flag = r["supplier_country"], r["supplier_flag"]
        hit = False
        if country:
            hit |= bool((sup["country"] == country).any())
        if flag:
            hit |= any(flag in f for f in sup["flags"])
        if not hit:
            said = " or ".join(x for x in (f"is in country {country}" if country else "",
                                           f"carries the flag '{flag}'" if flag else "") if x)
            out.append(Problem(loc("exclusions", row_no, r), f"no supplier {said}, so the rule excludes nothing",
                               "fix the country or flag, or remove the row"))
    st = d.instance.settings
    if st.policy_country and not (d.sites["country"] == st.policy_country).any() and not (
            d.instruments["provider_country"] == st.policy_country).any():
        set_by = [o for o in d.instance.overrides if o.split("=", 1)[0].strip() == "settings.policy_country"]
        where = (f"--set {set_by[-1]}" if set_by else f"{d.instance.path.name}[settings] policy_country"
                 if d.instance.path.suffix.lower() in (".xlsx", ".xlsm") else "instance.yaml settings.policy_country")
        out.append(Problem(where,
                           f"no site is in {st.policy_country} and no instrument is paid by it, so the policy "
                           "maker's outlay and domestic capacity count nothing",
                           "give the country of a site or of a paying government"))
    return out


def _idle_trade_rules(d: Derived, loc) -> list[Problem]:
    t = d.instance.tables
    out = []
    country = dict(zip(t["sites"]["id"], t["sites"]["country"]))
    country.update(zip(t["suppliers"]["id"], t["suppliers"]["country"]))
    country.update(zip(t["markets"]["id"], t["markets"]["country"]))
    shipped: set = set()
    if len(t["tariffs"]):
        shipped = set(zip(d.arcs["supplier"].map(country), d.arcs["site"].map(country), d.arcs["input"]))
        shipped |= set(zip(d.routes["site"].map(country), d.routes["market"].map(country), d.routes["product"]))
    pairs = {(f, to) for f, to, _ in shipped}
    for row_no, r in _rows(TABLES["tariffs"], t["tariffs"], "from_country", "to_country", "item"):
        pair, item = (r["from_country"], r["to_country"]), r["item"]
        if not (pair in pairs if item == "*" else (*pair, item) in shipped):
            what = "anything" if item == "*" else item
            out.append(Problem(loc("tariffs", row_no, r),
                               f"nothing can ship {what} from {pair[0]} to {pair[1]}, so this duty never applies",
                               "check the countries and the item, or remove the row"))
    modes = set(t["products"]["mode"]) | set(t["inputs"]["mode"])
    for row_no, r in _rows(TABLES["freight_rates"], t["freight_rates"], "mode"):
        if r["mode"] not in modes:
            out.append(Problem(loc("freight_rates", row_no, r),
                               f"no product or input travels by {r['mode']}, so this rate is never used",
                               "set the mode column of products or inputs, or remove the row"))
    sites, suppliers = set(t["sites"]["id"]), set(t["suppliers"]["id"])
    markets = set(t["markets"]["id"])
    offered = set(zip(t["offers"]["supplier"].tolist(), t["offers"]["input"].tolist()))
    made = set(zip(d.modules["site"].tolist(), d.modules["product"].tolist()))
    for row_no, r in _rows(TABLES["lanes"], t["lanes"], "origin", "destination", "item"):
        o, dest, item = r["origin"], r["destination"], r["item"]
        if (o in sites and dest in sites) or (o in suppliers and dest in markets):
            kinds = "a site to a site" if o in sites else "a supplier to a market"
            out.append(Problem(loc("lanes", row_no, r),
                               f"goes from {kinds}, which nothing travels (inputs go from suppliers to sites, "
                               "wafers from sites to markets)", "fix the origin or destination, or remove the row"))
        elif item != "*" and o in suppliers and (o, item) not in offered:
            out.append(Problem(loc("lanes", row_no, r), f"{o} offers no {item}, so the lane carries nothing",
                               "fix the item or add the offer, or remove the row"))
        elif item != "*" and o in sites and (o, item) not in made:
            out.append(Problem(loc("lanes", row_no, r), f"{o} cannot make {item} (no modules row), so the lane "
                               "carries nothing", "fix the item or add modules, or remove the row"))
    return out
