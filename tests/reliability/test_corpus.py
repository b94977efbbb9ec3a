# ruff: noqa: E501  (expected messages are kept whole, one per line, as the tool prints them)
"""The bad-input corpus: every way a planner's data or command line can be wrong, with the exact answer.

Each case breaks the small valid instance of :mod:`tests.reliability.base` in one place (or makes a
bad command line), runs the real CLI entry point in-process and asserts: exit code 2, stderr exactly
the expected ``location | problem; fix`` lines, no traceback, and nothing written to ``--out``.
Expected texts use ``{tmp}`` for the test's temporary folder. A case marked xfail states the message
the tool *should* give; its reason quotes what it gives today.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from siting.cli import main
from tests.reliability.base import BASE, write_base

Setup = Callable[[Path, Path], list[str]]


@dataclass(frozen=True)
class Case:
    id: str
    setup: Setup  # (instance folder, tmp_path) -> argv; may edit the instance first
    expected: str  # exact stderr lines; {tmp} is the test's tmp_path
    xfail: str | None = None


def _solve(inst: Path | str, tmp: Path, *extra: str) -> list[str]:
    return ["solve", str(inst), "--out", str(tmp / "out"), *extra]


def csv(table: str, text: str, *extra: str) -> Setup:
    """Replace one table's CSV text."""
    def setup(inst: Path, tmp: Path) -> list[str]:
        (inst / f"{table}.csv").write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
        return _solve(inst, tmp, *extra)
    return setup


def cell(table: str, row: int, column: str, value: str) -> Setup:
    """Set one cell of BASE (row numbered as a spreadsheet shows it, header = 1)."""
    lines = [line.split(",") for line in BASE[table].splitlines()]
    if column not in lines[0]:
        lines[0].append(column)
        for line in lines[1:]:
            line.append("")
    lines[row - 1][lines[0].index(column)] = value
    return csv(table, "\n".join(",".join(line) for line in lines))


def raw_bytes(name: str, data: bytes) -> Setup:
    def setup(inst: Path, tmp: Path) -> list[str]:
        (inst / name).write_bytes(data)
        return _solve(inst, tmp)
    return setup


def yaml_text(text: str) -> Setup:
    """Replace instance.yaml (the CSV tables stay, so tables found by name still load)."""
    def setup(inst: Path, tmp: Path) -> list[str]:
        (inst / "instance.yaml").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return _solve(inst, tmp)
    return setup


PLAIN_YAML = "settings: {money_unit: one, discount_rate: 0, lifetime_years: 1}\n"


def sets(*assignments: str) -> Setup:
    def setup(inst: Path, tmp: Path) -> list[str]:
        return _solve(inst, tmp, *[a for s in assignments for a in ("--set", s)])
    return setup


def both(*setups: Setup) -> Setup:
    """Apply several edits; the command line is the last one's."""
    def setup(inst: Path, tmp: Path) -> list[str]:
        return [f(inst, tmp) for f in setups][-1]
    return setup


def in_millions(then: Setup) -> Setup:
    """Switch the instance to USD million (the default money unit), then apply ``then``."""
    def setup(inst: Path, tmp: Path) -> list[str]:
        yaml_path = inst / "instance.yaml"
        yaml_path.write_text(yaml_path.read_text().replace("money_unit: one", "money_unit: million"))
        return then(inst, tmp)
    return setup


def argv(*args: str) -> Setup:
    """A command line; {inst} and {tmp} are replaced."""
    def setup(inst: Path, tmp: Path) -> list[str]:
        return [a.replace("{inst}", str(inst)).replace("{tmp}", str(tmp)) for a in args]
    return setup


def workbook(edit: Callable[[openpyxl.Workbook], None] | None = None, name: str = "book.xlsx") -> Setup:
    """BASE as a bare workbook (settings sheet + one sheet per table), edited by ``edit``."""
    def setup(inst: Path, tmp: Path) -> list[str]:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "settings"
        for row in (("key", "value"), ("name", "book"), ("money_unit", "one"), ("discount_rate", 0),
                    ("lifetime_years", 1)):
            ws.append(row)
        for tname, text in BASE.items():
            sheet = wb.create_sheet(tname)
            for line in text.splitlines():
                sheet.append([_number_or_text(v) for v in line.split(",")])
        if edit is not None:
            edit(wb)
        path = tmp / name
        wb.save(path)
        return _solve(path, tmp)
    return setup


def _number_or_text(value: str):
    try:
        return float(value)
    except ValueError:
        return value


def _merge_header(wb: openpyxl.Workbook) -> None:
    ws = wb["sites"]
    ws["B1"] = None
    ws.merge_cells("A1:B1")  # "id" spans the id and country columns


def _formula(wb: openpyxl.Workbook) -> None:
    wb["sites"]["C2"] = "=30+3"  # openpyxl saves no cached value, as a script-made workbook would


def _error_value(wb: openpyxl.Workbook) -> None:
    wb["modules"]["D2"] = "#DIV/0!"


def _title_row(wb: openpyxl.Workbook) -> None:
    wb["markets"].insert_rows(1)
    wb["markets"]["A1"] = "Markets 2024"


def _drop_settings(wb: openpyxl.Workbook) -> None:
    wb["settings"].title = "config"


def _extra_sheet(wb: openpyxl.Workbook) -> None:
    wb.create_sheet("Sheet1")["A1"] = "notes"


def _settings_columns(wb: openpyxl.Workbook) -> None:
    wb["settings"]["A1"] = "setting"


def _missing_sheet(wb: openpyxl.Workbook) -> None:
    del wb["demand"]


def not_a_workbook(inst: Path, tmp: Path) -> list[str]:
    path = tmp / "book.xlsx"
    path.write_bytes(b"id,country\na,JP\n")  # a CSV renamed to .xlsx
    return _solve(path, tmp)


def out_under_a_file(inst: Path, tmp: Path) -> list[str]:
    (tmp / "afile").write_text("x")
    return ["solve", str(inst), "--out", str(tmp / "afile" / "results")]


def out_is_a_file(inst: Path, tmp: Path) -> list[str]:
    (tmp / "out").write_text("x")
    return ["solve", str(inst), "--out", str(tmp / "out")]


def no_instance_yaml(inst: Path, tmp: Path) -> list[str]:
    (inst / "instance.yaml").unlink()
    return _solve(inst, tmp)


def drop_table(table: str) -> Setup:
    def setup(inst: Path, tmp: Path) -> list[str]:
        (inst / f"{table}.csv").unlink()
        text = (inst / "instance.yaml").read_text().replace(f"  {table}: {table}.csv\n", "")
        (inst / "instance.yaml").write_text(text)
        return _solve(inst, tmp)
    return setup


def bad_profile(inst: Path, tmp: Path) -> list[str]:
    (tmp / "mine.toml").write_text("threads = \n")
    return _solve(inst, tmp, "--profile", str(tmp / "mine.toml"))


#: A value rejected by its range or type check becomes empty, and a rule for empty values fires too.
CASES: list[Case] = [
    # ---- instance.yaml ----
    Case("yaml-unclosed-brace", yaml_text("name: t\nsettings: {money_unit: one\n"), "instance.yaml line 3 | malformed YAML: expected ',' or '}', but got '<stream end>'; check indentation and that every key is followed by ':'"),
    Case("yaml-tab-indent", yaml_text("name: t\nsettings:\n\tmoney_unit: one\n"), "instance.yaml line 3 | malformed YAML: found character '\\t' that cannot start any token; check indentation and that every key is followed by ':'"),
    Case("yaml-python-tag", yaml_text("name: !!python/object/apply:os.system ['touch pwned']\n"), "instance.yaml line 1 | YAML tag not allowed (!!python/object/apply:os.system); write plain values; tags such as !!python are refused"),
    Case("yaml-custom-tag", yaml_text("name: !fab t\n" + PLAIN_YAML), "instance.yaml line 1 | YAML tag not allowed (!fab); write plain values; tags such as !!python are refused"),
    Case("yaml-top-level-list", yaml_text("- name: t\n- settings: {}\n"), "instance.yaml | top level is not a mapping; start with 'name: ...' and 'settings:' keys"),
    Case("yaml-not-utf8", raw_bytes("instance.yaml", "name: Kikuy\xf4\n".encode("latin-1")), 'instance.yaml line 1 | is not UTF-8 text: byte 0xF4 at offset 11 is not valid UTF-8; save it as UTF-8'),
    Case("yaml-unknown-key", yaml_text("name: t\ntabels: {}\n" + PLAIN_YAML), "instance.yaml key 'tabels' | unknown key; did you mean 'tables'?"),
    Case("yaml-settings-not-mapping", yaml_text("name: t\nsettings: 0.08\n"), "instance.yaml settings | is not a mapping; write 'settings:' then indented 'key: value' lines"),
    Case("yaml-tables-not-mapping", yaml_text("name: t\ntables: [sites.csv]\n" + PLAIN_YAML), "instance.yaml tables | is not a mapping; write 'tables:' then 'sites: sites.csv' lines"),
    Case("yaml-unknown-table", yaml_text("name: t\ntables: {site: sites.csv}\n" + PLAIN_YAML), "instance.yaml tables.site | unknown table; did you mean 'sites'?"),
    Case("yaml-absolute-path", yaml_text("name: t\ntables: {sites: /etc/passwd}\n" + PLAIN_YAML), "instance.yaml tables.sites | '/etc/passwd' points outside the instance folder; keep every table file inside the instance folder"),
    Case("yaml-workbook-traversal", yaml_text("name: t\nworkbook: ../../secret.xlsx\n" + PLAIN_YAML), "instance.yaml workbook | '../../secret.xlsx' points outside the instance folder; keep every table file inside the instance folder"),
    Case("yaml-workbook-not-found", yaml_text("name: t\nworkbook: data.xlsx\n" + PLAIN_YAML), "instance.yaml workbook | file 'data.xlsx' not found; put the workbook beside instance.yaml or fix the name"),
    Case("yaml-table-file-typo", yaml_text("name: t\ntables: {sites: sites.cvs}\n" + PLAIN_YAML), "instance.yaml tables.sites | file 'sites.cvs' not found; create it or fix the file name"),
    Case("yaml-sources-not-mappings", yaml_text("name: t\nsources: [METI 2024]\n" + PLAIN_YAML), "instance.yaml sources item 1 | is not a mapping; write 'id:', 'title:' and 'url:' keys"),
    Case("yaml-source-without-id", yaml_text("name: t\nsources: [{title: METI}]\n" + PLAIN_YAML), 'instance.yaml sources item 1 | id: field required; give each source an id, and optionally title, url, date and note'),
    Case("yaml-assumptions-not-list", yaml_text("name: t\nassumptions: yen at 150\n" + PLAIN_YAML), "instance.yaml assumptions | is not a list; write one '- ...' line per assumption"),
    Case("yaml-duplicate-setting", yaml_text(
        "name: t\nsettings:\n  money_unit: one\n  discount_rate: 0\n  lifetime_years: 1\n  discount_rate: 0.5\n"),
        "instance.yaml line 6 | setting 'discount_rate' is given twice (lines 4 and 6); keep one of them"),
    Case("settings-money-unit-typo", yaml_text("name: t\nsettings: {money_unit: millions}\n"), "instance.yaml settings.money_unit | input should be 'one', 'thousand', 'million' or 'billion' (got 'millions'); size of capital amounts and of every result: USD million by default."),
    Case("settings-lifetime-zero", yaml_text("name: t\nsettings: {lifetime_years: 0}\n"), 'instance.yaml settings.lifetime_years | input should be greater than or equal to 1 (got 0); economic lifetime L of capital.'),
    Case("settings-radius-without-km", yaml_text("name: t\nsettings: {local_rule: radius}\n"), 'instance.yaml settings.local_radius_km | is empty but local_rule is radius; give the radius in km, e.g. 100'),
    Case("settings-share-zero", yaml_text("name: t\nsettings: {max_supplier_share: 0}\n"), 'instance.yaml settings.max_supplier_share | input should be greater than 0 (got 0); default largest share of one supplier per input and site.'),
    Case("no-instance-yaml", no_instance_yaml, '{tmp}/inst | folder has no instance.yaml; create one with `siting init DIR` or point at the workbook'),
    Case("missing-required-table", drop_table("demand"), "instance.yaml tables | table 'demand' is missing; add demand.csv (Demand d[m,p] and the penalty for leaving it unmet) and list it under 'tables:'"),
    # ---- CSV files ----
    Case("csv-utf16", raw_bytes("sites.csv", BASE["sites"].encode("utf-16")), "sites.csv | is UTF-16 text (it starts with a UTF-16 byte-order mark), not UTF-8; save it as 'CSV UTF-8 (comma delimited)'"),
    Case("csv-latin1-header", raw_bytes("markets.csv", "id,country,lat,lon,r\xe9gion\nm,JP,35,137,x\n"
                                        .encode("latin-1")), "markets.csv row 1 | is not UTF-8 text: byte 0xE9 at offset 20 is not valid UTF-8; save it as 'CSV UTF-8 (comma delimited)'"),
    Case("csv-tab-delimited", csv("sites", BASE["sites"].replace(",", "\t")), "sites.csv | columns are separated by tab, not commas; save it as 'CSV UTF-8 (comma delimited)'"),
    Case("csv-empty-file", raw_bytes("products.csv", b""), 'products.csv | is empty; write a header row with the column names'),
    Case("csv-header-only-required", csv("sites", "id,country,lat,lon"), (
        'sites.csv | has no rows; add at least one row (Candidate fab sites: build[s] decides whether each opens)\n'
        "modules.csv row 2 (site=a, product=chip) column site | 'a' is not a known sites id; add it to sites or fix the spelling\n"
        "modules.csv row 3 (site=b, product=chip) column site | 'b' is not a known sites id; add it to sites or fix the spelling\n"
        "instruments.csv row 2 (id=grant) column site | 'a' is not a known sites id; add it to sites or fix the spelling\n"
        "local_targets.csv row 2 (site=a) column site | 'a' is not a known sites id; add it to sites or fix the spelling")),
    Case("csv-duplicate-column", csv("markets", "id,country,lat,lon,lat\nm,JP,35,137,35"), "markets.csv | column 'lat' appears twice in the header; keep one of them"),
    Case("csv-missing-field", csv("markets", "id,country,lat,lon\nm,JP,35"), 'markets.csv row 2 | has 3 fields, the header has 4; check for a stray comma or an unquoted comma inside a value'),
    Case("csv-unclosed-quote", csv("markets", 'id,country,lat,lon\n"m,JP,35,137'), (
        "markets.csv row 2 | has a quote (\") that is never closed; close it or remove it")),
    # found by the fuzz test: the quote swallows the rest of the file into one header cell
    Case("csv-quote-in-header", csv("bom", '"product,input,units_per_wafer\nchip,wafer,1'), (
        "bom.csv row 1 | has a quote (\") that is never closed; close it or remove it")),
    Case("csv-title-row", csv("markets", "Markets 2024\nid,country,lat,lon\nm,JP,35,137"), (
        "markets.csv row 1 | is 'Markets 2024', not the column names; delete title rows above the header, "
        "so that row 1 names the columns (id, country, lat, lon)")),
    Case("csv-capitalised-header", csv("products", "ID\nchip"), (
        "products.csv column ID | unknown column; did you mean 'id'?\n"
        "products.csv | column 'id' is missing; add it (Technology family, e.g. logic-28nm)")),
    # "1,000" is a thousand (tests/instance/test_cells.py); "1,5" reads two ways
    Case("csv-thousands-separator", csv("demand", 'market,product,wafers_per_year\nm,chip,"1,5"'), "demand.csv row 2 (market=m, product=chip) column wafers_per_year | is '1,5', which reads two ways (a decimal comma, or a thousands separator?); write 1.5 or 15: a point for decimals, no thousands separator"),
    # ---- Excel workbooks ----
    Case("xlsx-merged-header", workbook(_merge_header), 'book.xlsx[sites] | has a column without a header (merged or empty cells in row 1); give every column a name in row 1 and unmerge header cells'),
    Case("xlsx-formula-without-value", workbook(_formula), (
        "book.xlsx[sites] row 2 (id=a) column lat | is the formula =30+3 with no saved value; open the workbook "
        "in Excel or LibreOffice and save it, so that every formula's value is stored")),
    Case("xlsx-error-value", workbook(_error_value), (
        "book.xlsx[modules] row 2 (site=a, product=chip) column capex_per_module | is the Excel error #DIV/0!; "
        "fix the formula in the workbook")),
    Case("xlsx-title-row", workbook(_title_row), (
        "book.xlsx[markets] row 1 | is 'Markets 2024', not the column names; delete title rows above the header, "
        "so that row 1 names the columns (id, country, lat, lon)")),
    Case("xlsx-no-settings-sheet", workbook(_drop_settings), "book.xlsx | workbook has no 'settings' sheet; add a sheet 'settings' with columns key, value (name, currency, ...)"),
    Case("xlsx-unknown-sheet", workbook(_extra_sheet), 'book.xlsx[Sheet1] | unknown sheet; sheets are: settings, sources, periods, fx, sites, products, modules, markets, demand, inputs, bom, suppliers, offers, qualification, freight_rates, lanes, tariffs, programs, instruments, local_targets, concentration, exclusions, resources, resource_use, scenarios, scenario_effects, hazards, hazard_effects'),
    Case("xlsx-settings-columns", workbook(_settings_columns), 'book.xlsx[settings] | needs the columns key and value; write one setting per row: key in column A, value in column B'),
    Case("xlsx-missing-sheet", workbook(_missing_sheet), "book.xlsx | sheet 'demand' is missing; add a sheet named demand (Demand d[m,p] and the penalty for leaving it unmet)"),
    Case("xlsx-corrupt", not_a_workbook, 'book.xlsx | cannot be read as an Excel workbook (BadZipFile); save it again as .xlsx from Excel or LibreOffice'),
    Case("xls-old-format", workbook(name="book.xls"), "{tmp}/book.xls | unknown kind of file '.xls'; give an instance folder, a .yaml file or an .xlsx workbook"),
    # ---- ids and references ----
    Case("unknown-site-in-target", cell("local_targets", 2, "site", "kumamoto"), "local_targets.csv row 2 (site=kumamoto) column site | 'kumamoto' is not a known sites id; add it to sites or fix the spelling"),
    Case("unknown-supplier-in-offer", cell("offers", 3, "supplier", "globalwafers"), "offers.csv row 3 (supplier=globalwafers, input=wafer) column supplier | 'globalwafers' is not a known suppliers id; add it to suppliers or fix the spelling"),
    Case("unknown-site-in-instrument", cell("instruments", 2, "site", "A"), "instruments.csv row 2 (id=grant) column site | 'A' is not a known sites id; add it to sites or fix the spelling"),
    Case("duplicate-supplier-id", cell("suppliers", 3, "id", "sumco"), (
        'suppliers.csv row 3 (id=sumco) | repeats the key of row 2; merge the two rows or give them different ids\n'
        "offers.csv row 3 (supplier=gw, input=wafer) column supplier | 'gw' is not a known suppliers id; add it to suppliers or fix the spelling")),
    Case("duplicate-offer-key", cell("offers", 3, "supplier", "sumco"), 'offers.csv row 3 (supplier=sumco, input=wafer) | repeats the key of row 2; merge the two rows or give them different ids'),
    Case("site-id-reused-by-supplier", cell("suppliers", 3, "id", "b"), (
        'suppliers.csv id b | is also an id in sites; give every site, market and supplier (and every product and input) its own id\n'
        "offers.csv row 3 (supplier=gw, input=wafer) column supplier | 'gw' is not a known suppliers id; add it to suppliers or fix the spelling")),
    Case("id-with-dot", csv("products", "id\nchip.v2"), (
        "products.csv row 2 (id=chip.v2) column id | is 'chip.v2', not a valid id; use letters, digits, '-' and '_' only (no spaces, dots or slashes)\n"
        "modules.csv row 2 (site=a, product=chip) column product | 'chip' is not a known products id; did you mean 'chip.v2'?\n"
        "modules.csv row 3 (site=b, product=chip) column product | 'chip' is not a known products id; did you mean 'chip.v2'?\n"
        "demand.csv row 2 (market=m, product=chip) column product | 'chip' is not a known products id; did you mean 'chip.v2'?\n"
        "bom.csv row 2 (product=chip, input=wafer) column product | 'chip' is not a known products id; did you mean 'chip.v2'?")),
    Case("exclusion-unknown-site", csv("exclusions", "id,supplier_country,site\nx,CN,c"), "exclusions.csv row 2 (id=x) column site | 'c' is not a known sites id; add it to sites or fix the spelling"),
    Case("lane-unknown-origin", csv("lanes", "origin,destination,item,cost_per_unit\nsumco-x,a,wafer,1"), "lanes.csv row 2 (origin=sumco-x, destination=a, item=wafer) column origin | 'sumco-x' is not a known sites or suppliers id; did you mean 'sumco'?"),
    # ---- types, NaN and infinities ----
    Case("int-as-word", cell("modules", 2, "max_modules", "ten"), "modules.csv row 2 (site=a, product=chip) column max_modules | is 'ten', not a number; give a number"),
    # "40%" in a share or rate is 0.4 (tests/instance/test_cells.py); in a price it means nothing
    Case("price-as-percent", cell("offers", 2, "price_per_unit", "40%"), (
        "offers.csv row 2 (supplier=sumco, input=wafer) column price_per_unit | is '40%', a percentage where a "
        "plain number is wanted; give the number itself (40), not a share of something")),
    Case("lat-nan", cell("suppliers", 2, "lat", "nan"), 'suppliers.csv row 2 (id=sumco) column lat | is nan, not a finite number; give a number in degrees north (WGS84)'),
    Case("price-minus-inf", cell("offers", 2, "price_per_unit", "-inf"), 'offers.csv row 2 (supplier=sumco, input=wafer) column price_per_unit | is -inf, not a finite number; give a number in currency per unit (e.g. USD)'),
    Case("overflow-1e400", cell("offers", 2, "capacity_units_per_year", "1e400"), (
        "offers.csv row 2 (supplier=sumco, input=wafer) column capacity_units_per_year | is 1e400, not a finite "
        "number; give a number in input units per year")),
    Case("bool-as-word", csv("inputs", "id,unit,counts_for_local\nwafer,wafer,si"), "inputs.csv row 2 (id=wafer) column counts_for_local | is 'si', not true or false; write true or false"),
    # ---- negative or zero where not allowed ----
    Case("negative-capacity", cell("offers", 2, "capacity_units_per_year", "-1000"), 'offers.csv row 2 (supplier=sumco, input=wafer) column capacity_units_per_year | is -1000; must be >= 0'),
    Case("zero-units-per-wafer", cell("bom", 2, "units_per_wafer", "0"), 'bom.csv row 2 (product=chip, input=wafer) column units_per_wafer | is 0; must be > 0'),
    Case("negative-demand", cell("demand", 2, "wafers_per_year", "-100"), 'demand.csv row 2 (market=m, product=chip) column wafers_per_year | is -100; must be >= 0'),
    Case("site-lifetime-half-year", cell("sites", 2, "lifetime_years", "0.5"), 'sites.csv row 2 (id=a) column lifetime_years | is 0.5; must be in [1, 100]'),
    Case("zero-radius", csv("local_targets", "site,target,rule,radius_km\na,0.5,radius,0"), (
        "local_targets.csv row 2 (site=a) column radius_km | is 0; must be > 0")),
    # ---- shares and probabilities outside [0, 1] ----
    Case("target-as-percent", cell("local_targets", 2, "target", "60"), 'local_targets.csv row 2 (site=a) column target | is 60; must be in [0, 1]'),
    Case("grant-rate-negative", cell("instruments", 2, "rate", "-0.1"), (
        "instruments.csv row 2 (id=grant) column rate | is -0.1; must be in [0, 1]")),
    Case("concentration-above-one", csv("concentration", "group_type,group,max_share\ncountry,JP,1.5"), 'concentration.csv row 2 (group_type=country, group=JP) column max_share | is 1.5; must be in [0, 1]'),
    Case("ad-valorem-above-ten", csv("tariffs", "from_country,to_country,item,ad_valorem\nTW,JP,wafer,25"), 'tariffs.csv row 2 (from_country=TW, to_country=JP, item=wafer) column ad_valorem | is 25; must be in [0, 10]'),
    # ---- latitude and longitude ----
    Case("supplier-lat-below-90", cell("suppliers", 3, "lat", "-91"), 'suppliers.csv row 3 (id=gw) column lat | is -91; must be in [-90, 90]'),
    Case("market-lon-360", cell("markets", 2, "lon", "360"), 'markets.csv row 2 (id=m) column lon | is 360; must be in [-180, 180]'),
    Case("lat-lon-swapped", cell("sites", 2, "lat", "131"), 'sites.csv row 2 (id=a) column lat | is 131; must be in [-90, 90]'),
    # ---- empty sets ----
    Case("no-products", csv("products", "id"), (
        'products.csv | has no rows; add at least one row (Products (technology families) measured in 300 mm-equivalent wafers)\n'
        "modules.csv row 2 (site=a, product=chip) column product | 'chip' is not a known products id; add it to products or fix the spelling\n"
        "modules.csv row 3 (site=b, product=chip) column product | 'chip' is not a known products id; add it to products or fix the spelling\n"
        "demand.csv row 2 (market=m, product=chip) column product | 'chip' is not a known products id; add it to products or fix the spelling\n"
        "bom.csv row 2 (product=chip, input=wafer) column product | 'chip' is not a known products id; add it to products or fix the spelling")),
    Case("no-modules-anywhere", csv("modules", "site,product,wafers_per_module,capex_per_module,max_modules\n"
                                    "a,chip,100,100,0\nb,chip,100,80,0"), 'demand.csv row 2 (market=m, product=chip) | no site can make chip and unmet demand has no penalty; add modules for it in modules.csv or set penalty_per_wafer'),
    # ---- units that cannot be right ----
    Case("fixed-cost-1e12-million", in_millions(cell("sites", 2, "fixed_cost", "1e12")), "sites.csv row 2 (id=a) column fixed_cost | is 1e12 USD million, 1e+18 in currency units; this cannot be right: check settings.money_unit or the column's unit"),
    Case("grant-cap-1e16", cell("instruments", 2, "cap", "1e16"), "instruments.csv row 2 (id=grant) column cap | is 1e16 USD, 1e+16 in currency units; this cannot be right: check settings.money_unit or the column's unit"),
    Case("price-1e16-per-wafer", cell("offers", 2, "price_per_unit", "1e16"), (
        "offers.csv row 2 (supplier=sumco, input=wafer) column price_per_unit | is 1e16 USD per unit; this "
        "cannot be right: per-unit amounts are in plain currency, check the column's unit")),
    # ---- rules no plan can meet ----
    Case("min-suppliers-setting-too-high", both(yaml_text("name: t\nsettings: {min_suppliers: 3}\n"),
                                                csv("inputs", "id,unit,critical\nwafer,wafer,true")), 'inputs.csv row 2 (id=wafer) (settings.min_suppliers) | 3 qualified suppliers are required but only 2 offer wafer; lower min_suppliers or add offers'),
    Case("ad-valorem-on-product", csv("tariffs", "from_country,to_country,item,ad_valorem\nUS,JP,chip,0.1"), "tariffs.csv row 2 (from_country=US, to_country=JP, item=chip) column ad_valorem | is set for product 'chip', which has no price in the model; use duty_per_unit for wafers; ad_valorem applies to inputs"),
    # ---- --set ----
    Case("set-unknown-table", sets("site.a.lat=34"), "--set site.a.lat | no such parameter; did you mean 'sites.a.lat' or 'sites.b.lat' or 'sites.a.lon'?"),
    Case("set-unknown-setting", sets("settings.discount=0.1"), "--set settings.discount | no such parameter; did you mean 'settings.discount_rate' or 'settings.policy_country' or 'settings.money_unit'?"),
    Case("set-unknown-row", sets("offers.sumco/resist.price_per_unit=1"), "--set offers.sumco/resist.price_per_unit | no such parameter; did you mean 'offers.sumco/wafer.price_per_unit' or 'offers.gw/wafer.price_per_unit'?"),
    Case("set-key-column", sets("sites.a.id=c"), "--set sites.a.id | no such parameter; did you mean 'sites.a.lon' or 'sites.a.lat' or 'sites.a.region'?"),
    Case("set-empty-path", sets("=5"), (
        "--set =5 | has no parameter path before '='; write PATH=VALUE, e.g. settings.discount_rate=0.06")),
    Case("set-bad-number", sets("sites.a.lat=north"), "--set sites.a.lat=north | is 'north', not a number; give a number in degrees north (WGS84)"),
    Case("set-share-above-one", sets("local_targets.a.target=1.2"), '--set local_targets.a.target=1.2 | is 1.2; must be in [0, 1]'),
    Case("set-money-unit", sets("settings.money_unit=millions"), "--set settings.money_unit=millions | input should be 'one', 'thousand', 'million' or 'billion' (got 'millions'); size of capital amounts and of every result: USD million by default."),
    Case("set-two-bad", sets("sites.a.fixed_cost=-1", "offers.gw/wafer.price_per_unit=nan"), (
        '--set sites.a.fixed_cost=-1 | is -1; must be >= 0\n'
        '--set offers.gw/wafer.price_per_unit=nan | is nan, not a finite number; give a number in currency per unit (e.g. USD)')),
    # ---- command line and output folder ----
    Case("cli-unknown-command", argv("solv", "{inst}"), "siting | argument command: invalid choice: 'solv' (choose from 'solve', 'sweep', 'compare', 'breakeven', 'explain', 'alternatives', 'robustness', 'diff', 'map', 'frontier', 'validate', 'init', 'params', 'import', 'induce', 'programme'); see `siting --help`"),
    Case("cli-no-instance", argv("solve"), 'siting solve | the following arguments are required: instance; see `siting solve --help`'),
    Case("cli-time-limit-word", argv("solve", "{inst}", "--out", "{tmp}/out", "--time-limit", "ten"), "siting solve | argument --time-limit: invalid float value: 'ten'; see `siting solve --help`"),
    Case("cli-time-limit-negative", argv("solve", "{inst}", "--out", "{tmp}/out", "--time-limit", "-5"), 'solver option time_limit | input should be greater than 0 (got -5.0); see the fields of solvers/default.toml'),
    Case("cli-missing-instance", argv("solve", "{tmp}/nowhere", "--out", "{tmp}/out"), '{tmp}/nowhere | no such file or folder; give an instance folder, its instance.yaml or an .xlsx workbook'),
    Case("cli-csv-as-instance", argv("solve", "{inst}/sites.csv", "--out", "{tmp}/out"), "{tmp}/inst/sites.csv | unknown kind of file '.csv'; give an instance folder, a .yaml file or an .xlsx workbook"),
    Case("cli-bad-profile-toml", bad_profile, "{tmp}/mine.toml | malformed TOML: Invalid value (at line 1, column 11); fix the profile's syntax"),
    Case("out-under-a-file", out_under_a_file, '--out {tmp}/afile/results | cannot write there (Not a directory); choose a folder you can write to'),
    Case("out-is-a-file", out_is_a_file, '--out {tmp}/out | is a file, not a folder; choose a folder for the results'),
]


def _params():
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        yield pytest.param(case, id=case.id, marks=marks)


def run_case(case: Case, tmp_path: Path, capsys) -> tuple[int, str, str]:
    inst = write_base(tmp_path / "inst")
    args = case.setup(inst, tmp_path)
    capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 60


@pytest.mark.parametrize("case", list(_params()))
def test_bad_input_is_answered_in_one_line_each(case: Case, tmp_path: Path, capsys):
    code, out, err = run_case(case, tmp_path, capsys)
    assert "Traceback" not in out + err
    assert err.rstrip("\n") == case.expected.replace("{tmp}", str(tmp_path))
    assert code == 2
    results = tmp_path / "out"
    assert not results.is_dir() or not any(results.iterdir()), "something was written to --out"


# ---- rules no plan can meet: caught by the pre-solve screens, before any MIP is built ----
# Issue 7 lists these in the corpus (exit 2), while the screens in siting.instance.screens report them as
# an infeasible run (exit 3, summary.json written). Either answer passes here as long as it comes from the
# screens, in one line, without a traceback; both exit codes are documented behaviour.

@dataclass(frozen=True)
class Screen:
    id: str
    setup: Setup
    words: str  # must appear in the screen's sentence
    xfail: str | None = None


_ONLY_A = csv("modules", "site,product,wafers_per_module,capex_per_module,max_modules\na,chip,100,100,1\nb,chip,100,80,0")

SCREENS: list[Screen] = [
    # 1000 wafers must be met; a and b can build 100 each
    Screen("demand-above-all-capacity", cell("demand", 2, "wafers_per_year", "1000"), "demand for chip"),
    # 100 wafers need 100 units of wafer; the two suppliers offer 10 each
    Screen("input-capacity-below-demand", csv("offers", "supplier,input,capacity_units_per_year,price_per_unit\n"
                                              "sumco,wafer,10,100\ngw,wafer,10,90"), "wafer"),
    # only a can build, a must buy 50% locally (JP), and every supplier is in TW
    Screen("local-target-no-local-supplier", both(
        csv("suppliers", "id,country,lat,lon\nsumco,TW,24.8,121.0\ngw,TW,24.78,121.0"), _ONLY_A), "local"),
    # every supplier of wafer is excluded at every site, and wafers need wafer
    Screen("exclusion-removes-every-supplier", csv("exclusions", "id,supplier_country\nno-jp,JP\nno-tw,TW"), "wafer"),
]


@pytest.mark.parametrize("screen", [
    pytest.param(s, id=s.id, marks=[pytest.mark.xfail(strict=True, reason=s.xfail)] if s.xfail else [])
    for s in SCREENS])
def test_rules_no_plan_can_meet_are_screened_before_the_solve(screen: Screen, tmp_path: Path, capsys):
    code, out, err = run_case(Case(screen.id, screen.setup, ""), tmp_path, capsys)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert code in (2, 3), err
    if code == 2:
        assert lines and all(" | " in line for line in lines)
        results = tmp_path / "out"
        assert not results.is_dir() or not any(results.iterdir())
    else:
        assert len(lines) == 1 and lines[0].startswith("t: infeasible (pre-solve screen: "), err
    assert screen.words in err
