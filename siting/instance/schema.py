"""The instance format: every table, every column, its type, unit, range and references.

This module is the single statement of the format. The reader, the checks, the override paths,
``siting init`` and the format documentation all read it, so they cannot drift apart.

Money comes in two sizes. Capital amounts (fixed costs, capex, qualification costs, grants, caps,
budgets) are in the instance's *money unit* (``settings.currency`` x ``settings.money_unit``, by
default USD million). Per-unit amounts (prices, operating cost per wafer, freight, duties, the
unmet-demand penalty) are in plain currency (USD per unit), the way suppliers quote them. The
derive step converts per-unit amounts into the money unit, so every cost in the model and in the
results is in the money unit per year. A row may give its money in another currency (its
``currency`` column, with the rates in the ``fx`` table): see :mod:`siting.instance.fx`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from siting.errors import visible

MONEY = "money unit (currency x money_unit, e.g. USD million)"
PER_UNIT = "currency per unit (e.g. USD)"
#: What a scenario effect can scale.
EFFECT_TARGETS = ("site", "supplier", "demand", "price", "freight", "resource")
#: How an effect selects what it hits (``kind``: resources of a kind, e.g. water).
EFFECT_BY = ("id", "country", "region", "hazard_zone", "kind", "all")

#: Kinds of subsidy instrument (MODEL.md constraint 10).
INSTRUMENT_KINDS = ("capex_grant", "tax_credit", "lump_sum", "production_subsidy", "concessional_loan")


@dataclass(frozen=True)
class Column:
    """One column of an instance table.

    Parameters
    ----------
    name
        Column header.
    kind
        ``id`` (a name used as a key), ``str``, ``country`` (an ISO 3166-1 alpha-2 code, see
        :mod:`siting.instance.countries`), ``float``, ``int``, ``bool`` or ``list`` (several names
        separated by ``;``).
    required
        Whether every row must give a value. Optional columns fall back to ``default``.
    default
        Value used where the column is absent or the cell is empty (``None``: stays empty).
    unit
        Unit of the values, shown in documentation and ``siting params``.
    lo, hi
        Inclusive bounds; ``lo_open`` makes the lower bound strict (``> lo``).
    ref
        Table whose ``id`` column the values must name (``*`` allowed where ``wildcard``).
    doc
        One sentence for the documentation and the template.
    """

    name: str
    kind: str
    required: bool = False
    default: object = None
    unit: str = ""
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    ref: str | tuple[str, ...] | None = None
    wildcard: bool = False
    choices: tuple[str, ...] | None = None
    doc: str = ""


@dataclass(frozen=True)
class Table:
    """One table of an instance.

    Parameters
    ----------
    name
        Table name: the CSV file stem and the Excel sheet name.
    key
        Columns that identify a row; unique within the table and used in ``--set`` paths.
    columns
        Every column the table may have.
    required
        Whether an instance must have the table (optional tables may be absent or empty).
    doc
        What the table holds.
    """

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    required: bool = True
    doc: str = ""
    extra: dict = field(default_factory=dict)

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        """Column names in documented order."""
        return [c.name for c in self.columns]


def _source() -> Column:
    return Column("source", "str", doc="Where the row's figures come from, or 'assumption: ...'.")


def _place(required_coords: bool = True) -> tuple[Column, ...]:
    return (
        Column("country", "country", required=True, doc="ISO 3166 alpha-2 code, e.g. JP, TW, US."),
        Column("region", "str", default="", doc="Region within the country, e.g. Kyushu."),
        Column("lat", "float", required=required_coords, lo=-90, hi=90, unit="degrees north (WGS84)",
               doc="Latitude."),
        Column("lon", "float", required=required_coords, lo=-180, hi=180, unit="degrees east (WGS84)",
               doc="Longitude."),
    )


def _currency() -> Column:
    return Column("currency", "str", default="",
                  doc="Currency of the row's money columns (e.g. JPY), converted at the fx table's rate; empty: the "
                      "table's default under currencies: in instance.yaml, else settings.currency.")


def _period(what: str) -> Column:
    return Column("period", "id", ref="periods",
                  doc=f"Period from which the row's values hold ({what}); empty: the first period. A value not "
                      "given for a period carries forward from the latest period before it that gives one.")


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "periods", ("id",),
            (
                Column("id", "id", required=True, doc="Short name of the period, e.g. 2024 or 2026-2029."),
                Column("start_year", "int", required=True, lo=1900, hi=2500, unit="calendar year",
                       doc="First calendar year of the period."),
                Column("years", "int", required=True, lo=1, hi=100, unit="years",
                       doc="Length of the period; each period starts the year after the one before it ends."),
                _source(),
            ),
            required=False,
            doc="Planning periods in calendar order; absent: one steady-state year (the snapshot).",
        ),
        Table(
            "fx", ("currency", "period"),
            (
                Column("currency", "str", required=True,
                       doc="A currency that rows name in their currency column, e.g. JPY, EUR."),
                _period("the rate in each year of the period"),
                Column("rate", "float", required=True, lo=0, lo_open=True,
                       unit="units of this currency per unit of settings.currency",
                       doc="How many units of this currency buy one unit of settings.currency, e.g. 150 for JPY "
                           "in a USD instance; a row's money is divided by it."),
                _source(),
            ),
            required=False,
            doc="Exchange rates of the currencies rows are given in, into settings.currency.",
        ),
        Table(
            "sites", ("id",),
            (
                Column("id", "id", required=True, doc="Short name of the candidate site."),
                Column("name", "str", default="", doc="Readable name."),
                *_place(),
                Column("fixed_cost", "float", default=0.0, lo=0, unit=MONEY,
                       doc="Cost of opening the site at all (land, utilities, shell), paid once."),
                Column("discount_rate", "float", lo=0, hi=1, unit="per year",
                       doc="Overrides settings.discount_rate for this site's capital."),
                Column("lifetime_years", "float", lo=1, hi=100, unit="years",
                       doc="Overrides settings.lifetime_years for this site's capital."),
                Column("hazard_zones", "list", default="", doc="Hazard zones the site lies in, ';'-separated."),
                Column("status", "str", default="", choices=("open", "closed"),
                       doc="open: the plan must open the site; closed: it may not; empty: the model decides."),
                Column("lead_time_years", "float", default=0.0, lo=0, hi=50, unit="years",
                       doc="Years from ordering capacity to its first output (phased instances): capacity "
                           "ordered in a period produces from the first period starting that many years later."),
                _currency(),
                _source(),
            ),
            doc="Candidate fab sites: build[s] decides whether each opens.",
        ),
        Table(
            "products", ("id",),
            (
                Column("id", "id", required=True, doc="Technology family, e.g. logic-28nm."),
                Column("name", "str", default=""),
                Column("freight_per_wafer_km", "float", default=0.0, lo=0, unit="currency per wafer-km",
                       doc="Outbound freight rate from a site to a market."),
                Column("mode", "str", default="",
                       doc="Transport mode (e.g. air, sea); a freight_rates row for it replaces freight_per_wafer_km."),
                _currency(),
                _source(),
            ),
            doc="Products (technology families) measured in 300 mm-equivalent wafers.",
        ),
        Table(
            "modules", ("site", "product", "period"),
            (
                Column("site", "id", required=True, ref="sites"),
                Column("product", "id", required=True, ref="products"),
                _period("the first row's period is the earliest a module can be ordered"),
                Column("wafers_per_module", "float", required=True, lo=0, lo_open=True,
                       unit="wafers per year", doc="Capacity K of one module."),
                Column("capex_per_module", "float", required=True, lo=0, unit=MONEY,
                       doc="Capital cost C of one module, paid once."),
                Column("max_modules", "int", required=True, lo=0, doc="Most modules N the site can hold."),
                Column("operating_cost_per_wafer", "float", default=0.0, lo=0, unit=PER_UNIT,
                       doc="Labour, power, water and other running cost per wafer made."),
                Column("lifetime_years", "float", lo=1, hi=100, unit="years",
                       doc="Economic lifetime of the modules (tools); empty: the site's lifetime."),
                Column("lead_time_years", "float", lo=0, hi=50, unit="years",
                       doc="Lead time of this product's capacity at the site; empty: the site's lead time."),
                Column("ramp", "list", default="",
                       doc="Share of nominal output in the 1st, 2nd, ... year of operation, ';'-separated "
                           "(e.g. 0.3;0.7;1), full output after the last; empty: settings.ramp."),
                _currency(),
                _source(),
            ),
            doc="Capacity modules per site and product: modules[s,p] in 0..max_modules.",
        ),
        Table(
            "markets", ("id",),
            (
                Column("id", "id", required=True),
                Column("name", "str", default=""),
                *_place(),
                _source(),
            ),
            doc="Demand points: customers or regions.",
        ),
        Table(
            "demand", ("market", "product", "period"),
            (
                Column("market", "id", required=True, ref="markets"),
                Column("product", "id", required=True, ref="products"),
                _period("demand in each year of the period"),
                Column("wafers_per_year", "float", required=True, lo=0, unit="wafers per year"),
                Column("penalty_per_wafer", "float", lo=0, unit=PER_UNIT,
                       doc="Cost of each wafer not supplied; empty: settings.unmet_penalty_per_wafer."),
                _currency(),
                _source(),
            ),
            doc="Demand d[m,p] and the penalty for leaving it unmet.",
        ),
        Table(
            "inputs", ("id",),
            (
                Column("id", "id", required=True, doc="Material or service bought per wafer."),
                Column("name", "str", default=""),
                Column("unit", "str", default="unit", doc="Unit the bill of materials and offers use."),
                Column("freight_per_unit_km", "float", default=0.0, lo=0, unit="currency per unit-km",
                       doc="Inbound freight rate from a supplier to a site."),
                Column("mode", "str", default="",
                       doc="Transport mode (e.g. air, sea); a freight_rates row for it replaces freight_per_unit_km."),
                Column("critical", "bool", default=False,
                       doc="Whether min_suppliers applies to this input."),
                Column("min_suppliers", "int", lo=1,
                       doc="Qualified suppliers needed at an open site (critical inputs); "
                           "empty: settings.min_suppliers."),
                Column("max_supplier_share", "float", lo=0, hi=1, lo_open=True,
                       doc="Largest share one supplier may have of this input at one site; "
                           "empty: settings.max_supplier_share."),
                Column("counts_for_local", "bool", default=True,
                       doc="Whether purchases of this input count in local-share targets."),
                Column("class", "str", default="",
                       doc="Class of input a local-share target can be scoped to, e.g. indirect, wafer, gas, "
                           "machinery."),
                _currency(),
                _source(),
            ),
            required=False,
            doc="Inputs (materials, gases, chemicals, masks...).",
        ),
        Table(
            "bom", ("product", "input"),
            (
                Column("product", "id", required=True, ref="products"),
                Column("input", "id", required=True, ref="inputs"),
                Column("units_per_wafer", "float", required=True, lo=0, lo_open=True,
                       unit="input units per wafer"),
                _source(),
            ),
            required=False,
            doc="Bill of materials a[p,i].",
        ),
        Table(
            "suppliers", ("id",),
            (
                Column("id", "id", required=True),
                Column("name", "str", default=""),
                *_place(),
                Column("qualification_cost", "float", default=0.0, lo=0, unit=MONEY,
                       doc="Cost of qualifying this supplier at one site, paid once."),
                Column("qualification_lead_years", "float", default=0.0, lo=0, unit="years",
                       doc="On a phased instance, years from qualifying this supplier at a site to its first "
                           "deliveries there: qualified in a period, it supplies from the first period starting "
                           "at least this much later (a snapshot ignores it)."),
                Column("flags", "list", default="", doc="Labels for exclusion rules, ';'-separated."),
                Column("hazard_zones", "list", default="",
                       doc="Hazard zones the plant lies in, ';'-separated (a hazard_zones layer adds to them; "
                           "scenario effects select by them)."),
                _currency(),
                _source(),
            ),
            required=False,
            doc="Suppliers: each plant is its own supplier, with its own location.",
        ),
        Table(
            "offers", ("supplier", "input", "period"),
            (
                Column("supplier", "id", required=True, ref="suppliers"),
                Column("input", "id", required=True, ref="inputs"),
                _period("capacity and price"),
                Column("capacity_units_per_year", "float", required=True, lo=0,
                       unit="input units per year", doc="Most this supplier can sell of this input."),
                Column("price_per_unit", "float", required=True, lo=0, unit=PER_UNIT),
                Column("qualification_lead_years", "float", lo=0, unit="years",
                       doc="The supplier's qualification lead time for this input (a new line or plant); "
                           "empty: suppliers.qualification_lead_years."),
                _currency(),
                _source(),
            ),
            required=False,
            doc="What each supplier offers: a purchase variable exists only for an offer.",
        ),
        Table(
            "qualification", ("supplier", "site", "period"),
            (
                Column("supplier", "id", required=True, ref="suppliers"),
                Column("site", "id", required=True, ref="sites"),
                _period("the cost of qualifying in that period"),
                Column("cost", "float", required=True, lo=0, unit=MONEY),
                _currency(),
                _source(),
            ),
            required=False,
            doc="Qualification cost of a supplier at a site, overriding suppliers.qualification_cost.",
        ),
        Table(
            "freight_rates", ("mode", "item"),
            (
                Column("mode", "str", required=True, doc="Transport mode named in products.mode or inputs.mode."),
                Column("item", "id", required=True, ref=("products", "inputs"), wildcard=True,
                       doc="Product or input id, or * for every item carried by this mode."),
                Column("rate_per_unit_km", "float", required=True, lo=0, unit="currency per unit-km",
                       doc="Freight per wafer or input unit and km of route."),
                Column("route_factor", "float", default=1.0, lo=1, hi=5, unit="route km per geodesic km",
                       doc="How much longer the route is than the geodesic (roads, sea lanes), e.g. 1.3."),
                _currency(),
                _source(),
            ),
            required=False,
            doc="Freight rates by transport mode: distance x route_factor x rate; lanes override them.",
        ),
        Table(
            "lanes", ("origin", "destination", "item"),
            (
                Column("origin", "id", required=True, ref=("sites", "suppliers"),
                       doc="A site (for products) or a supplier (for inputs)."),
                Column("destination", "id", required=True, ref=("markets", "sites"),
                       doc="A market (for products) or a site (for inputs)."),
                Column("item", "id", required=True, ref=("products", "inputs"), wildcard=True,
                       doc="Product or input id, or * for every item on the lane."),
                Column("cost_per_unit", "float", required=True, lo=0, unit=PER_UNIT,
                       doc="Freight cost per wafer or input unit, replacing distance x rate."),
                _currency(),
                _source(),
            ),
            required=False,
            doc="Freight overrides for given pairs.",
        ),
        Table(
            "tariffs", ("from_country", "to_country", "item"),
            (
                Column("from_country", "country", required=True,
                       doc="Country shipped from (a supplier's for inputs, a site's for wafers)."),
                Column("to_country", "country", required=True,
                       doc="Country shipped to (a site's for inputs, a market's for wafers)."),
                Column("item", "id", required=True, ref=("products", "inputs"), wildcard=True),
                Column("duty_per_unit", "float", default=0.0, lo=0, unit=PER_UNIT),
                Column("ad_valorem", "float", default=0.0, lo=0, hi=10, unit="share of price",
                       doc="Duty as a share of the supplier's price (inputs only)."),
                _currency(),
                _source(),
            ),
            required=False,
            doc="Duties on inputs shipped to a site and on wafers shipped to a market.",
        ),
        Table(
            "programs", ("id",),
            (
                Column("id", "id", required=True),
                Column("budget", "float", required=True, lo=0, unit=MONEY,
                       doc="Most the program's instruments pay in total, undiscounted."),
                _currency(),
                _source(),
            ),
            required=False,
            doc="Subsidy programs: a budget shared by the instruments that name them.",
        ),
        Table(
            "instruments", ("id", "period"),
            (
                Column("id", "id", required=True),
                _period("the instrument's terms; it is offered from its first row's period"),
                Column("kind", "str", required=True, choices=INSTRUMENT_KINDS,
                       doc="capex_grant or tax_credit: rate x capex up to cap; lump_sum: amount on opening; "
                           "production_subsidy: per_wafer x wafers made for years, up to cap; "
                           "concessional_loan: loan_share of capex lent at loan_rate, up to cap lent."),
                Column("site", "id", ref="sites",
                       doc="Site the instrument is offered at; or give country or region instead."),
                Column("country", "country", default="",
                       doc="Offered at every candidate site in this country (instead of site)."),
                Column("region", "str", default="",
                       doc="Offered at every candidate site in this region (instead of site)."),
                Column("rate", "float", lo=0, hi=1, doc="Share of capex granted (capex_grant, tax_credit)."),
                Column("cap", "float", lo=0, unit=MONEY,
                       doc="Most paid at one site in total, undiscounted (for a loan: most lent); empty: no cap."),
                Column("amount", "float", lo=0, unit=MONEY, doc="Lump sum paid on opening."),
                Column("per_wafer", "float", lo=0, unit=PER_UNIT,
                       doc="Production subsidy per wafer made at the site."),
                Column("product", "id", ref="products",
                       doc="Product a production subsidy pays for; empty: every product."),
                Column("years", "float", lo=0, lo_open=True, unit="years",
                       doc="Years a production subsidy is paid, or a loan's term; empty: the site's lifetime."),
                Column("loan_share", "float", lo=0, hi=1, doc="Share of capex a concessional loan lends."),
                Column("loan_rate", "float", lo=0, hi=1, unit="per year",
                       doc="Interest rate of a concessional loan (below the site's discount rate)."),
                Column("min_local_share", "float", lo=0, hi=1,
                       doc="Condition: paid only if the site's local share is at least this."),
                Column("min_utilisation", "float", lo=0, hi=1,
                       doc="Condition: paid only if the site's output is at least this share of its capacity."),
                Column("condition_years", "float", lo=0, lo_open=True, unit="years",
                       doc="Continued production, on a phased instance: min_utilisation must hold in every period "
                           "starting within this many years of the first period the capacity the row pays for "
                           "produces (empty: in the period of payment only)."),
                Column("repay_share", "float", lo=0, hi=1, lo_open=True,
                       doc="Continued production that may fall short, on a phased instance: the share of the "
                           "payout repaid in each period of the condition_years window in which the site makes "
                           "less than min_utilisation of its capacity (in any scenario), the firm's choice; empty: "
                           "the condition must hold in every period of the window, or the payout is declined."),
                Column("program", "id", ref="programs", doc="Program whose budget the payout counts against."),
                Column("paid", "str", default="on_order", choices=("on_order", "on_start", "spread"),
                       doc="When a capex grant, tax credit, loan or lump sum is paid: on_order (in the period the "
                           "capex is ordered), on_start (on a phased instance: in the first period the site's "
                           "capacity ordered then produces, after the site's lead time) or spread (from the period "
                           "of order in paid_years equal yearly instalments, the first at that year's end; a "
                           "snapshot counts it too)."),
                Column("paid_years", "float", lo=0, lo_open=True, unit="years",
                       doc="Years over which a payout with paid = spread is paid in equal instalments."),
                Column("provider_country", "country", default="",
                       doc="Government paying; empty: the site's country."),
                _currency(),
                _source(),
            ),
            required=False,
            doc="Subsidy instruments offered to the firm.",
        ),
        Table(
            "local_targets", ("site", "period"),
            (
                Column("site", "id", required=True, ref="sites"),
                _period("a phased path is one row per period"),
                Column("target", "float", required=True, lo=0, hi=1,
                       doc="Least value share of purchases from local suppliers."),
                Column("classes", "list", default="",
                       doc="Classes of inputs (inputs.class) the target counts, ';'-separated; empty: every input "
                           "that counts_for_local."),
                Column("rule", "str", choices=("country", "region", "radius"),
                       doc="What 'local' means here; empty: settings.local_rule."),
                Column("radius_km", "float", lo=0, lo_open=True, unit="km",
                       doc="Radius for rule=radius; empty: settings.local_radius_km."),
                _source(),
            ),
            required=False,
            doc="Local-procurement targets (JASM: 0.6 at Kumamoto).",
        ),
        Table(
            "concentration", ("group_type", "group"),
            (
                Column("group_type", "str", required=True, choices=("country", "region", "hazard_zone")),
                Column("group", "str", required=True),
                Column("max_share", "float", required=True, lo=0, hi=1,
                       doc="Largest share of total built capacity in the group."),
                _source(),
            ),
            required=False,
            doc="Limits on capacity concentrated in one country, region or hazard zone.",
        ),
        Table(
            "exclusions", ("id",),
            (
                Column("id", "id", required=True),
                Column("supplier_country", "country", default="",
                       doc="Exclude suppliers located in this country."),
                Column("supplier_flag", "str", default="", doc="Exclude suppliers carrying this flag."),
                Column("site", "id", ref="sites", wildcard=True, default="*",
                       doc="Site the rule applies to; * or empty: every site."),
                _source(),
            ),
            required=False,
            doc="Suppliers never qualified for a site (a 'non-red' supply chain).",
        ),
        Table(
            "resources", ("id",),
            (
                Column("id", "id", required=True, doc="Short name of the resource, e.g. phoenix-water."),
                Column("site", "id", required=True, ref="sites", doc="Site whose resource it is."),
                Column("kind", "str", default="", doc="What it is, e.g. water, power, engineers, tools; scenario "
                                                     "effects can select resources by kind."),
                Column("unit", "str", default="", doc="Unit of the limit, e.g. m3/day, MW, engineers."),
                Column("limit", "float", required=True, lo=0, unit="resource unit",
                       doc="Most the site may draw while open (a rate: m3 per day, MW, headcount)."),
                Column("extra_cost", "float", lo=0, unit="currency per resource unit and year",
                       doc="Cost of each unit drawn above the limit, held for a year (e.g. 365 x the price of a "
                           "m3 for m3/day); empty: no supply beyond the limit."),
                Column("extra_max", "float", lo=0, unit="resource unit",
                       doc="Most that may be drawn above the limit; empty: no bound (with extra_cost)."),
                _source(),
            ),
            required=False,
            doc="Site resources (water, grid power, engineers, a shared tool pool) that limit output at an "
                "open site.",
        ),
        Table(
            "resource_use", ("resource", "product", "market"),
            (
                Column("resource", "id", required=True, ref="resources"),
                Column("product", "id", required=True, ref="products"),
                Column("market", "id", ref="markets", wildcard=True, default="*",
                       doc="Market whose wafers the row applies to; * or empty: every market (a row for the "
                           "market replaces it there, e.g. a server's capacity used per client)."),
                Column("per_wafer", "float", required=True, lo=0,
                       unit="resource unit per wafer per year",
                       doc="What one wafer a year of the product at the resource's site draws, in the "
                           "resource's unit (e.g. m3/day per wafer a year)."),
                _source(),
            ),
            required=False,
            doc="Use of each site resource per wafer of each product made there.",
            extra={"optional_key": ("market",)},
        ),
        Table(
            "scenarios", ("id",),
            (
                Column("id", "id", required=True, doc="Short name of the scenario, e.g. nankai-quake."),
                Column("name", "str", default=""),
                Column("probability", "float", required=True, lo=0, hi=1,
                       doc="Probability pi[w]; the probabilities of all scenarios sum to 1."),
                Column("description", "str", default="", doc="What happens in the scenario."),
                _source(),
            ),
            required=False,
            doc="Disruption scenarios W of the second stage; absent: one nominal scenario with probability 1.",
        ),
        Table(
            "scenario_effects", ("scenario", "target", "by", "match", "item"),
            (
                Column("scenario", "id", required=True, ref="scenarios"),
                Column("target", "str", required=True, choices=EFFECT_TARGETS,
                       doc="What the multiplier scales: site (availability of capacity), supplier (availability "
                           "of capacity), demand, price (suppliers' prices), freight (from a site or supplier) or "
                           "resource (a site resource's limit)."),
                Column("by", "str", default="id", choices=EFFECT_BY,
                       doc="How match selects the sites, suppliers or markets the row applies to."),
                Column("match", "str", default="*",
                       doc="The id, country, region or hazard zone selected; * (or empty) with by=all."),
                Column("item", "id", ref=("products", "inputs"), wildcard=True, default="*",
                       doc="Product (site, demand, freight from a site) or input (supplier, price, freight from "
                           "a supplier) the row applies to; * or empty: all."),
                Column("multiplier", "float", required=True, lo=0,
                       doc="Factor on the base value in the scenario; availabilities are in [0, 1]. Rows that "
                           "hit the same value multiply."),
                _source(),
            ),
            required=False,
            doc="Multipliers that define each scenario: site and supplier availability, demand, prices, freight.",
        ),
        Table(
            "hazards", ("id",),
            (
                Column("id", "id", required=True, doc="Short name of the hazard, e.g. taiwan-blockade."),
                Column("name", "str", default=""),
                Column("probability", "float", required=True, lo=0, hi=1,
                       doc="Chance that the hazard strikes within `years` years (1: in a given year, the year of "
                           "operation the second stage models)."),
                Column("years", "float", default=1.0, lo=0, lo_open=True, unit="years",
                       doc="Span the probability is quoted over, e.g. 30 for '70% within 30 years'; it is turned "
                           "into a chance per year, 1 - (1 - probability)^(1/years)."),
                Column("description", "str", default="", doc="What happens when the hazard strikes."),
                _source(),
            ),
            required=False,
            doc="Independent hazards that generate the scenarios (instead of scenarios.csv): every joint "
                "combination, or a seeded sample (settings.scenario_sample, scenario_seed).",
        ),
        Table(
            "hazard_effects", ("hazard", "target", "by", "match", "item"),
            (
                Column("hazard", "id", required=True, ref="hazards"),
                Column("target", "str", required=True, choices=EFFECT_TARGETS,
                       doc="As in scenario_effects: site, supplier, demand, price, freight or resource."),
                Column("by", "str", default="id", choices=EFFECT_BY,
                       doc="How match selects the sites, suppliers or markets the row applies to."),
                Column("match", "str", default="*",
                       doc="The id, country, region or hazard zone selected; * (or empty) with by=all."),
                Column("item", "id", ref=("products", "inputs"), wildcard=True, default="*",
                       doc="Product or input the row applies to; * or empty: all."),
                Column("multiplier", "float", required=True, lo=0,
                       doc="Factor on the base value while the hazard strikes; availabilities are in [0, 1]. In a "
                           "scenario where several hazards strike, rows that hit the same value multiply."),
                _source(),
            ),
            required=False,
            doc="What each hazard does when it strikes, in the form of scenario_effects rows.",
        ),
    )
}


def key_parts(table: Table) -> tuple[str, ...]:
    """Key columns that may be left empty (a ``period``, or another the table names in
    ``extra["optional_key"]``): an empty one is left out of a row's label and ``--set`` path, so
    that an instance without periods keeps the labels and paths it had."""
    return tuple(c for c in table.key if c == "period" or c in table.extra.get("optional_key", ()))


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value == ""


def key_label(table: Table, row: dict) -> str:
    """Render a row's key as ``(site=kumamoto, product=logic-28nm)`` for messages."""
    # an invisible or look-alike character in a key must show in the message; an empty period is left out
    optional = key_parts(table)
    parts = [f"{k}={visible(str(row.get(k, '')), table.column(k).kind == 'id')}" for k in table.key
             if not (k in optional and _blank(row.get(k, "")))]
    return "(" + ", ".join(parts) + ")"

