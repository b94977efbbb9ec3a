# ruff: noqa: E501  (expected messages are kept whole, one per line, as the tool prints them)
"""Country codes: ISO 3166-1 alpha-2 in every table and rule that names a country, with suggestions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siting.errors import InputError
from siting.instance.countries import country_problem, is_country, iso_codes, user_assigned
from siting.instance.designs import apply_package, read_designs
from siting.instance.read import read_instance
from siting.run import load_case
from tests.instance.test_validation import BASE, problems, with_table

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_list_holds_the_249_assigned_codes():
    codes = iso_codes()
    assert len(codes) == 249
    assert all(len(c) == 2 and c.isupper() for c in codes)
    assert codes["JP"] == "Japan" and codes["TW"] == "Taiwan" and codes["GB"] == "United Kingdom"


def test_every_country_of_natural_earth_has_its_alpha3_code_in_the_list():
    """An independent source: the Natural Earth outlines shipped for maps carry ISO alpha-3 codes
    (-99 where Natural Earth has none); each must map to an alpha-2 code of the list."""
    data = json.loads((ROOT / "siting" / "data" / "ne_110m_admin_0_countries.geojson").read_text())
    alpha3 = {f["properties"]["iso_a3"] for f in data["features"]} - {"-99"}
    assert len(alpha3) > 150
    missing = [a for a in sorted(alpha3) if country_problem(a) is None or "alpha-3" not in country_problem(a)[0]]
    assert missing == []


@pytest.mark.parametrize("text,expected", [
    ("Japan", ("is 'Japan', not an ISO 3166-1 alpha-2 code", "did you mean JP?")),
    ("japan", ("is 'japan', not an ISO 3166-1 alpha-2 code", "did you mean JP?")),
    ("Taiwan", ("is 'Taiwan', not an ISO 3166-1 alpha-2 code", "did you mean TW?")),
    ("South Korea", ("is 'South Korea', not an ISO 3166-1 alpha-2 code", "did you mean KR?")),
    ("Japn", ("is 'Japn', not an ISO 3166-1 alpha-2 code", "did you mean JP?")),
    ("JPN", ("is 'JPN', an ISO 3166-1 alpha-3 code", "write its alpha-2 code JP (Japan)")),
    ("TWN", ("is 'TWN', an ISO 3166-1 alpha-3 code", "write its alpha-2 code TW (Taiwan)")),
    ("jp", ("is 'jp', not in capitals", "write JP")),
    ("Tw", ("is 'Tw', not in capitals", "write TW")),
    ("UK", ("is 'UK', a code ISO 3166-1 reserves but does not assign", "write GB, the code of United Kingdom")),
    ("AB", ("is 'AB', not an ISO 3166-1 alpha-2 code",
            "give a two-letter code such as JP, TW or US (or a user-assigned one, XA to XZ, for a place ISO does not list)")),
])
def test_a_wrong_country_gets_the_code_to_write(text, expected):
    assert country_problem(text) == expected


@pytest.mark.parametrize("code", ["JP", "TW", "US", "GB", "XX", "XK", "AA", "QM", "QZ", "ZZ"])
def test_assigned_and_user_assigned_codes_pass(code):
    assert is_country(code)
    assert country_problem(code) is None


def test_user_assigned_is_exactly_the_ranges_of_the_standard():
    every = [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    # AA, QM-QZ (14), XA-XZ (26), ZZ: 42 codes, none of them assigned to a country
    assert sum(user_assigned(c) for c in every) == 42
    assert not any(user_assigned(c) and c in iso_codes() for c in every)
    assert not user_assigned("QL") and not user_assigned("xx")


# every table and rule that names a country, with a wrong code in it, and the one line it gets
@pytest.mark.parametrize("tables,expected", [
    ({"sites": "id,country,lat,lon,fixed_cost\na,Japan,33,131,10\nb,US,33.5,-112,10"},
     "sites.csv row 2 (id=a) column country | is 'Japan', not an ISO 3166-1 alpha-2 code; did you mean JP?"),
    ({"markets": "id,country,lat,lon\nm,jp,35,137"},
     "markets.csv row 2 (id=m) column country | is 'jp', not in capitals; write JP"),
    ({"suppliers": "id,country,lat,lon\nsumco,JPN,33.27,129.88"},
     "suppliers.csv row 2 (id=sumco) column country | is 'JPN', an ISO 3166-1 alpha-3 code; write its alpha-2 code JP (Japan)"),
    ({"instruments": "id,kind,country,rate\ng,capex_grant,JPN,0.4"},
     "instruments.csv row 2 (id=g) column country | is 'JPN', an ISO 3166-1 alpha-3 code; write its alpha-2 code JP (Japan)"),
    ({"instruments": "id,kind,site,rate,provider_country\ng,capex_grant,a,0.4,Japan"},
     "instruments.csv row 2 (id=g) column provider_country | is 'Japan', not an ISO 3166-1 alpha-2 code; did you mean JP?"),
    ({"concentration": "group_type,group,max_share\ncountry,JPN,0.5"},
     "concentration.csv row 2 (group_type=country, group=JPN) column group | is 'JPN', an ISO 3166-1 alpha-3 code; write its alpha-2 code JP (Japan)"),
    ({"exclusions": "id,supplier_country\nno-tw,TWN"},
     "exclusions.csv row 2 (id=no-tw) column supplier_country | is 'TWN', an ISO 3166-1 alpha-3 code; write its alpha-2 code TW (Taiwan)"),
    ({"tariffs": "from_country,to_country,item,duty_per_unit\nTaiwan,JP,wafer,5"},
     "tariffs.csv row 2 (from_country=Taiwan, to_country=JP, item=wafer) column from_country | is 'Taiwan', not an ISO 3166-1 alpha-2 code; did you mean TW?"),
    ({"tariffs": "from_country,to_country,item,duty_per_unit\nTW,jp,wafer,5"},
     "tariffs.csv row 2 (from_country=TW, to_country=jp, item=wafer) column to_country | is 'jp', not in capitals; write JP"),
    ({"scenarios": "id,probability\nquake,1", "scenario_effects": "scenario,target,by,match,multiplier\nquake,site,country,Japan,0.5"},
     "scenario_effects.csv row 2 (scenario=quake, target=site, by=country, match=Japan, item=*) column match | is 'Japan', not an ISO 3166-1 alpha-2 code; did you mean JP?"),
])
def test_every_table_that_names_a_country_checks_it(tmp_path, tables, expected):
    found = problems(with_table(tmp_path, **tables))
    assert found == [expected]


def test_a_region_or_hazard_zone_group_is_not_a_country(tmp_path):
    """Only group_type=country holds a country code: a region named Kyushu is fine."""
    folder = with_table(tmp_path, concentration="group_type,group,max_share\nregion,Kyushu,0.5",
                        sites="id,country,region,lat,lon,fixed_cost\na,JP,Kyushu,33,131,10\nb,US,AZ,33.5,-112,10")
    load_case(folder)


def test_policy_country_in_the_settings_and_on_the_command_line(tmp_path):
    from tests.helpers import write_instance

    folder = write_instance(tmp_path / "inst", BASE, settings={"policy_country": "Japan"})
    assert problems(folder) == [
        "instance.yaml settings.policy_country | is 'Japan', not an ISO 3166-1 alpha-2 code; did you mean JP?"]
    assert problems(with_table(tmp_path), ["settings.policy_country=jp"]) == [
        "--set settings.policy_country=jp | is 'jp', not in capitals; write JP"]


def test_jasm_with_chitose_in_japan_spelled_out_is_refused():
    """The case of the issue: `Japan` made Chitose non-local to every Japanese supplier, silently."""
    with pytest.raises(InputError) as err:
        load_case(ROOT / "instances" / "jasm", ["sites.chitose.country=Japan"])
    assert [str(p) for p in err.value.problems] == [
        "--set sites.chitose.country=Japan | is 'Japan', not an ISO 3166-1 alpha-2 code; did you mean JP?"]


def test_a_designs_file_policy_country_is_checked(tmp_path):
    path = tmp_path / "designs.yaml"
    path.write_text("policy_country: Japan\npackages:\n  us:\n    policy_country: usa\n  ok:\n    policy_country: US\n")
    with pytest.raises(InputError) as err:
        read_designs(path)
    assert [str(p) for p in err.value.problems] == [
        "designs.yaml policy_country | is 'Japan', not an ISO 3166-1 alpha-2 code; did you mean JP?",
        "designs.yaml packages.us.policy_country | is 'usa', an ISO 3166-1 alpha-3 code; write its alpha-2 code US (United States of America)"]


def test_a_designs_package_instrument_with_a_wrong_country_names_the_package(tmp_path):
    path = tmp_path / "designs.yaml"
    path.write_text("packages:\n  jp:\n    add:\n      - {id: g, kind: capex_grant, country: JPN, rate: 0.3}\n")
    raw = apply_package(read_instance(with_table(tmp_path)), read_designs(path)[2])
    with pytest.raises(InputError) as err:
        load_case(raw)
    assert [str(p) for p in err.value.problems] == [
        "instruments.csv + designs.yaml[jp] row 2 (id=g) column country | is 'JPN', an ISO 3166-1 alpha-3 code; write its alpha-2 code JP (Japan)"]


@pytest.mark.parametrize("instance", ["jasm", "network-2030"])
def test_the_bundled_instances_use_valid_codes(instance):
    load_case(ROOT / "instances" / instance)
