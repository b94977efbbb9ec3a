"""Currencies: rows in other currencies, converted at the fx table's rates before the model sees them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from siting.cli import main
from siting.errors import InputError
from siting.instance.derive import derive
from siting.instance.fx import in_instance_currency
from siting.instance.template import write_template
from siting.run import load_case
from tests.helpers import solve

ROOT = Path(__file__).resolve().parents[2]


def _starter(tmp_path: Path, name: str = "s") -> Path:
    return write_template(tmp_path / name)


def _add_fx(folder: Path, rows: str, currencies: dict | None = None) -> None:
    (folder / "fx.csv").write_text("currency,period,rate,source\n" + rows, encoding="utf-8")
    spec = yaml.safe_load((folder / "instance.yaml").read_text(encoding="utf-8"))
    spec["tables"]["fx"] = "fx.csv"
    if currencies:
        spec["currencies"] = currencies
    (folder / "instance.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")


def _set_column(path: Path, column: str, values: dict[int, str], replace: dict[int, dict[str, str]] | None = None):
    """Add ``column`` to a CSV file, with ``values`` by data row (from 0); ``replace`` changes cells."""
    import csv

    rows = list(csv.reader(path.open(encoding="utf-8")))
    head = rows[0]
    if column not in head:
        head.append(column)
        for r in rows[1:]:
            r.append("")
    at = head.index(column)
    for n, v in values.items():
        rows[n + 1][at] = v
    for n, cells in (replace or {}).items():
        for col, v in cells.items():
            rows[n + 1][head.index(col)] = v
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def test_yen_rows_convert_by_hand(tmp_path):
    """Starter modules in yen at 160 JPY per USD: Kumamoto's capex 144,000 JPY million is USD 900
    million (144,000 / 160) and its operating cost 192,000 JPY per wafer is USD 1,200 per wafer,
    the starter's own figures; Phoenix's row stays in USD. A supplier price of 20,800 JPY (the
    table default under ``currencies:``) is USD 130 per wafer. So the derived data, and the whole
    solve, equal the starter's in USD."""
    usd = _starter(tmp_path, "usd")
    jpy = _starter(tmp_path, "jpy")
    _add_fx(jpy, "JPY,,160,assumption\n", currencies={"offers": "JPY"})
    _set_column(jpy / "modules.csv", "currency", {0: "JPY", 1: "USD"},
                {0: {"capex_per_module": "144000", "operating_cost_per_wafer": "192000"}})
    # every offer in yen by the table default; the starter's prices x 160
    _set_column(jpy / "offers.csv", "currency", {},
                {0: {"price_per_unit": "20800"}, 1: {"price_per_unit": "17600"},
                 2: {"price_per_unit": "288000"}, 3: {"price_per_unit": "272000"}})
    d_usd, d_jpy = derive(load_case(usd)), derive(load_case(jpy))
    mods = d_jpy.modules.set_index("site")
    assert mods.at["kumamoto", "capex_per_module"] == 900.0
    assert mods.at["kumamoto", "operating_cost_per_wafer"] == 1200.0
    assert mods.at["phoenix", "capex_per_module"] == 1100.0
    assert d_jpy.offers["price"].tolist()[:4] == pytest.approx([130e-6, 110e-6, 1800e-6, 1700e-6], rel=1e-15)
    assert d_jpy.offers["price"].tolist() == d_usd.offers["price"].tolist()
    a, b = solve(usd, duals=False), solve(jpy, duals=False)
    assert b.outcome.objective == a.outcome.objective
    assert b.violations == []


def test_one_currency_is_the_same_answer_bit_for_bit(tmp_path):
    """A currency column naming the instance's own currency, and an fx table no row uses, change
    nothing: the very same objective and tables (and the instance passes through unconverted)."""
    plain = _starter(tmp_path, "plain")
    marked = _starter(tmp_path, "marked")
    _add_fx(marked, "EUR,,0.9,assumption\n")
    _set_column(marked / "offers.csv", "currency", {0: "USD", 1: "USD", 2: "", 3: "USD"})
    inst = load_case(marked)
    assert in_instance_currency(inst) is inst
    a, b = solve(plain), solve(marked)
    assert a.outcome.objective == b.outcome.objective
    for name in ("sites", "procurement", "subsidies"):
        assert a.results.tables[name].equals(b.results.tables[name]), name


def test_jasm_yen_grant_is_the_dollar_cap_and_sweeps(tmp_path):
    """jasm gives METI's cap as JPY 475,950 million at 150 per USD: exactly USD 3,173 million. At
    170 per USD it is 475,950 / 170 = 2,799.70588... million."""
    inst = load_case(ROOT / "instances" / "jasm")
    conv = in_instance_currency(inst)
    caps = conv.tables["instruments"].set_index("id")["cap"]
    assert caps["meti-kumamoto"] == 3173.0 and caps["meti-chitose"] == 3173.0
    weak = in_instance_currency(load_case(ROOT / "instances" / "jasm", ["fx.JPY.rate=170"]))
    assert weak.tables["instruments"].set_index("id").at["meti-kumamoto", "cap"] == pytest.approx(475950 / 170)
    # converting twice changes nothing
    assert in_instance_currency(conv) is conv


def test_per_period_rates_convert_each_period_at_its_own(tmp_path):
    """jasm-phased with a yen rate of 100 from the first period and 200 from p2027: an offer priced
    103 in yen is 1.03 USD in p2021, p2023 and p2025 and 0.515 USD in p2027 and p2030 (the price is
    carried forward and converted at each period's rate); a site's fixed cost in yen (a table
    without periods) at the first period's rate."""
    folder = tmp_path / "phased"
    shutil.copytree(ROOT / "instances" / "jasm-phased", folder)
    _add_fx(folder, "JPY,,100,assumption\nJPY,p2027,200,assumption\n")
    _set_column(folder / "offers.csv", "currency", {0: "JPY"})
    _set_column(folder / "sites.csv", "currency", {0: "JPY"})
    inst = load_case(folder)
    conv = in_instance_currency(inst)
    offers = conv.tables["offers"]
    first = inst.tables["offers"].iloc[0]
    rows = offers[(offers["supplier"] == first["supplier"]) & (offers["input"] == first["input"])]
    price = dict(zip(rows["period"], rows["price_per_unit"]))
    assert price == {"p2021": 1.03, "p2023": 1.03, "p2025": 1.03, "p2027": 0.515, "p2030": 0.515}
    site = inst.tables["sites"].iloc[0]
    assert conv.tables["sites"].iloc[0]["fixed_cost"] == site["fixed_cost"] / 100
    # the other offers keep their dollars
    others = offers[offers["supplier"] != first["supplier"]]
    assert set(others["currency"]) == {"USD"}


@pytest.mark.parametrize("fx, cell, message", [
    ("JPY,,150,x\n", "JPX", "offers.csv row 2 (supplier=sumco-imari, input=wafer) column currency | JPX has no "
                            "exchange rate in the fx table; add an fx row (currency=JPX, rate = JPX per USD); "
                            "or did you mean 'JPY'?"),
    ("JPY,,0,x\n", "JPY", "fx.csv row 2 (currency=JPY) column rate | is 0; must be > 0"),
    ("JPY,,-150,x\n", "JPY", "fx.csv row 2 (currency=JPY) column rate | is -150; must be > 0"),
    ("JPY,,,x\n", "JPY", "fx.csv row 2 (currency=JPY) column rate | is empty; give a value"),
    ("jpy,,150,x\n", "USD", "fx.csv row 2 (currency=jpy) column currency | is 'jpy', not a currency code; write "
                            "the three-letter ISO 4217 code in capitals, e.g. JPY, EUR, TWD"),
    ("USD,,1,x\n", "USD", "fx.csv row 2 (currency=USD) column currency | is the instance's own currency "
                          "(settings.currency USD), whose rate is 1; delete the row"),
])
def test_bad_currency_input_is_one_line_exit_2(tmp_path, capsys, fx, cell, message):
    folder = _starter(tmp_path)
    _add_fx(folder, fx)
    _set_column(folder / "offers.csv", "currency", {0: cell})
    assert main(["solve", str(folder), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message), err
    assert not (tmp_path / "out").exists()


def test_a_rate_missing_for_the_first_period_is_refused(tmp_path):
    folder = tmp_path / "phased"
    shutil.copytree(ROOT / "instances" / "jasm-phased", folder)
    _add_fx(folder, "JPY,p2025,150,assumption\n")
    _set_column(folder / "offers.csv", "currency", {0: "JPY"})
    with pytest.raises(InputError) as exc:
        load_case(folder)
    lines = str(exc.value).splitlines()
    assert len(lines) == 1
    assert lines[0].endswith("column currency | JPY has no exchange rate for period p2021: its first fx row holds "
                             "from p2025; give the fx row for JPY an empty period or period p2021")


def test_currencies_default_for_a_table_without_money_is_refused(tmp_path):
    folder = _starter(tmp_path)
    _add_fx(folder, "JPY,,150,x\n", currencies={"markets": "JPY"})
    with pytest.raises(InputError, match=r"instance.yaml currencies.markets \| is not a table with money columns"):
        load_case(folder)


def test_a_table_default_currency_survives_the_workbook(tmp_path):
    """The yen starter (offers in JPY by ``currencies:``) written as one workbook (settings rows
    ``currencies.offers``) reads back to the same converted prices."""
    from siting.instance.book import instance_workbook
    from siting.instance.read import read_instance

    folder = _starter(tmp_path)
    _add_fx(folder, "JPY,,160,assumption\n", currencies={"offers": "JPY"})
    _set_column(folder / "offers.csv", "currency", {}, {0: {"price_per_unit": "20800"}})
    book = tmp_path / "book.xlsx"
    book.write_bytes(instance_workbook(read_instance(folder)))
    a, b = in_instance_currency(load_case(folder)), in_instance_currency(load_case(book))
    assert b.tables["offers"]["price_per_unit"].tolist() == a.tables["offers"]["price_per_unit"].tolist()
    assert a.tables["offers"]["price_per_unit"].tolist()[0] == 130.0


def test_params_shows_money_in_the_rows_own_currency(capsys):
    assert main(["params", str(ROOT / "instances" / "jasm")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "fx.JPY.rate = 150  [JPY per USD]" in lines
    assert "instruments.meti-kumamoto.cap = 475950  [JPY million]" in lines
    assert "instruments.phoenix-infra.amount = 205.0  [USD million]" in lines
