"""The one way a benchmark script writes its rows: a CSV with a header, its folder made first."""

from __future__ import annotations

import csv
from pathlib import Path


def write_rows(out: str | Path, rows: list[dict]) -> None:
    """Write ``rows`` (dicts with the same keys, in column order) to the CSV file ``out`` and say where."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {out}")
