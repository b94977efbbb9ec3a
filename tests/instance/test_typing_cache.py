"""The typing cache of sweeps: checking with it gives the same instance, or the same error, as
checking from scratch, whatever sequence of overrides it has seen."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from siting.errors import InputError
from siting.instance.check import TypingCache, check_instance
from siting.instance.overrides import apply_overrides
from siting.instance.read import read_instance
from siting.run import load_case

JASM = Path(__file__).resolve().parents[2] / "instances" / "jasm"

#: A sweep-like sequence: valid and invalid values of one cell, two cells at once, a setting that
#: retypes money columns, a key-free column of another table, and back to the first cell.
SEQUENCE = [
    ["instruments.meti-chitose.rate=0.3"],
    ["instruments.meti-chitose.rate=1.5"],
    ["instruments.meti-chitose.rate=abc"],
    ["instruments.meti-chitose.rate=0.2", "instruments.meti-chitose.cap=-4"],
    ["instruments.meti-chitose.rate=0.25"],
    ["sites.chitose.fixed_cost=12"],
    ["settings.money_unit=one"],
    ["modules.chitose/logic-28nm.max_modules=2.5"],
    ["modules.chitose/logic-28nm.max_modules=3"],
    [],
    ["instruments.meti-chitose.rate=0.35"],
]


def _check(raw, cache):
    try:
        return check_instance(raw, cache)
    except InputError as exc:
        return str(exc)


def test_cached_checks_equal_checks_from_scratch():
    raw = read_instance(JASM)
    cache = TypingCache()
    errors = 0
    for sets in SEQUENCE:
        variant = apply_overrides(raw, sets)
        cached, fresh = _check(variant, cache), _check(variant, None)
        if isinstance(fresh, str):
            errors += 1
            assert cached == fresh
            continue
        assert not isinstance(cached, str), cached
        for name, table in fresh.tables.items():
            pd.testing.assert_frame_equal(cached.tables[name], table, check_dtype=True)
    assert errors == 4  # the sequence does test refusals


@pytest.mark.parametrize("value", ["1.5", "-0.1", "x"])
def test_a_bad_value_after_good_ones_is_still_refused(value):
    raw = read_instance(JASM)
    cache = TypingCache()
    for good in ("0.1", "0.2"):
        check_instance(apply_overrides(raw, [f"instruments.meti-chitose.rate={good}"]), cache)
    with pytest.raises(InputError, match=r"^--set instruments.meti-chitose.rate="):
        check_instance(apply_overrides(raw, [f"instruments.meti-chitose.rate={value}"]), cache)


def _refused(raw, sets, cache) -> list[str]:
    with pytest.raises(InputError) as err:
        load_case(raw, sets, cache)
    return [str(p) for p in err.value.problems]


def test_an_overridden_reference_column_is_checked_after_a_changed_rate():
    # meti-chitose is the third line of instruments.csv, so spreadsheet row 3; a grant rate is not a
    # reference, so the first case may skip the site references, but the second overrides the site itself
    raw = read_instance(JASM)
    cache = TypingCache()
    load_case(raw, ["instruments.meti-chitose.rate=0.3"], cache)
    bad = "instruments.csv row 3 (id=meti-chitose) column site | 'zzz' is not a known sites id; " \
          "add it to sites or fix the spelling"
    assert _refused(raw, ["instruments.meti-chitose.site=zzz"], cache) == [bad]
    # a rate after the refused case compares with the last case that passed, not the refused one
    assert _refused(raw, ["instruments.meti-chitose.site=zzz", "instruments.meti-chitose.rate=0.4"], cache) == [bad]
    assert load_case(raw, ["instruments.meti-chitose.rate=0.4"], cache)["instruments"].at[3, "site"] == "chitose"


def test_an_unchanged_reference_column_is_checked_when_the_ids_it_names_change():
    # the instruments table is the very same object both times, but chitose is gone from sites
    raw = read_instance(JASM)
    cache = TypingCache()
    load_case(raw, ["instruments.meti-chitose.rate=0.3"], cache)
    sites = raw.tables["sites"]
    fewer = raw.with_changes(tables={**raw.tables, "sites": sites[sites["id"] != "chitose"]})
    problems = _refused(fewer, ["instruments.meti-chitose.rate=0.3"], cache)
    assert "instruments.csv row 3 (id=meti-chitose) column site | 'chitose' is not a known sites id; " \
           "add it to sites or fix the spelling" in problems
    assert problems == _refused(fewer, ["instruments.meti-chitose.rate=0.3"], None)
