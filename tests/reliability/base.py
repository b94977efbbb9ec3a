"""A small valid instance that the corpus and the fuzz test break in one place each.

Why it is valid and quick: two sites (a in JP, b in US) can each make the 100 wafers market m
needs; one input (wafer) has a local supplier in JP and a foreign one in TW, so the 50% local
target at a can be met; a capex grant at a. Amounts are plain USD (money_unit one, r = 0, L = 1).
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write_instance
from tests.instance.test_validation import BASE as VALIDATION_BASE

# the validation tests' two-site instance, with a second supplier, a capped grant and a local target
BASE = dict(
    VALIDATION_BASE,
    suppliers="id,country,lat,lon\nsumco,JP,33.27,129.88\ngw,TW,24.78,121.0",
    offers="supplier,input,capacity_units_per_year,price_per_unit\nsumco,wafer,1000,100\ngw,wafer,1000,90",
    instruments="id,kind,site,rate,cap\ngrant,capex_grant,a,0.4,50",
    local_targets="site,target\na,0.5",
)


def write_base(folder: Path, **tables: str) -> Path:
    """Write BASE with some tables replaced (a value of None drops the table)."""
    merged = {**BASE, **tables}
    return write_instance(folder, {k: v for k, v in merged.items() if v is not None})
