"""Write programme.yaml: the pool of candidate US fab projects that checks `siting programme`
against SIA/BCG's 2020 programme curve (see README.md in this folder).

Run from anywhere: ``python instances/validation/us-programme/generate.py``. The output is fully
determined by the constants below (numpy's PCG64 generator, seed SEED); a test checks that the
committed programme.yaml is what this script writes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SEED = 2020                     # the year of the study; fixed before any run
BASELINE = 9                    # projects that prefer the US with no federal money (SIA/BCG: 9 fabs at USD 0)
BASELINE_INVESTMENT = 69_000    # USD million in all for those 9 (SIA/BCG: USD 69bn at USD 0)
MARGINAL = 12                   # projects that need federal money: more than USD 50bn can buy
FAB = 21_000                    # USD million: the marginal fab, (174 - 69) / (14 - 9) = (279 - 174) / (19 - 14)
BASELINE_EDGE = 0.01            # the baseline projects' US site is 1% of their investment cheaper
TCO_GAP = (0.25, 0.50)          # V-F1: 10-year TCO of a US fab 25-50% above Taiwan, Korea, Singapore
INCENTIVE_SHARE = (0.40, 0.70)  # V-F2: 40-70% of that gap is due to government incentives
TCO_PER_INVESTMENT = 1.0        # assumption: the Asian alternative's 10-year TCO taken equal to the investment


def gaps(seed: int = SEED, n: int = MARGINAL) -> np.ndarray:
    """Federal offer each marginal project needs (USD million): TCO gap x incentive share x TCO.

    Both factors are drawn by Latin hypercube sampling (one draw in each of n equal strata of
    each band, strata paired at random), so the pool covers the bands evenly instead of by luck.
    """
    rng = np.random.default_rng(seed)
    strata = (np.arange(n) + 0.5) / n
    gap = TCO_GAP[0] + (TCO_GAP[1] - TCO_GAP[0]) * rng.permutation(strata)
    share = INCENTIVE_SHARE[0] + (INCENTIVE_SHARE[1] - INCENTIVE_SHARE[0]) * rng.permutation(strata)
    return np.round(gap * share * TCO_PER_INVESTMENT * FAB, 1)


def programme_text() -> str:
    lines = [f"# Written by generate.py (seed {SEED}); do not edit by hand: change generate.py and run it.",
             "# USD million. Each project: one firm choosing between a US site and its best Asian site.",
             "country: US", "instrument: lump", "budgets: [0, 20000, 50000]", "objective: fabs", "projects:"]
    k_base = round(BASELINE_INVESTMENT / BASELINE, 3)
    for k in range(BASELINE):
        asia = round(k_base * (1 + BASELINE_EDGE), 3)
        lines.append(f"  - {{name: us-prefers-{k + 1:02d}, instance: project, set: [modules.us/wafer.capex_per_module="
                     f"{k_base}, modules.asia/wafer.capex_per_module={asia}]}}")
    for k, gap in enumerate(gaps()):
        lines.append(f"  - {{name: marginal-{k + 1:02d}, instance: project, set: [modules.us/wafer.capex_per_module="
                     f"{FAB}, modules.asia/wafer.capex_per_module={FAB - gap:.1f}]}}  # gap {gap:.1f}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    out = Path(__file__).with_name("programme.yaml")
    out.write_text(programme_text(), encoding="utf-8")
    print(f"wrote {out}")
