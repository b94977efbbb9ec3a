"""Time to load a large instance.yaml: the strict loader against the former way.

The former way parsed the file twice with PyYAML's pure-Python loader (``yaml.safe_load``, then
``yaml.compose`` for the repeated-key check). :func:`siting.instance.yamlfile.load_yaml` parses it
once with libyaml (where installed) and types the values in one pass. The files hold a settings
block and a long ``assumptions:`` list, up to the 8 MiB limit; each size is loaded ``--repeat``
times in turn and the medians are printed and written to ``benchmarks/out/yaml_load.csv``.

    python benchmarks/yaml_load.py --repeat 3
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from siting.instance.yamlfile import load_yaml  # noqa: E402


def write_yaml(path: Path, mib: float) -> None:
    head = "name: big\nsettings:\n  currency: USD\n  money_unit: million\nassumptions:\n"
    line = "  - an assumption written out at some length, as planners do in their notes\n"
    n = int((mib * 2**20 - len(head)) // len(line))
    path.write_text(head + line * n, encoding="utf-8")


def former(path: Path) -> object:
    text = path.read_text(encoding="utf-8-sig")
    data = yaml.safe_load(text)
    yaml.compose(text, Loader=yaml.SafeLoader)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="1,4,7.9", help="file sizes in MiB")
    parser.add_argument("--out", default=str(Path(__file__).parent / "out" / "yaml_load.csv"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mib in (float(s) for s in args.sizes.split(",")):
            path = Path(tmp) / "instance.yaml"
            write_yaml(path, mib)
            times: dict[str, list[float]] = {"former": [], "strict": []}
            for _ in range(args.repeat):
                for way, load in (("former", former), ("strict", load_yaml)):
                    t0 = time.perf_counter()
                    load(path)
                    times[way].append(time.perf_counter() - t0)
            old, new = statistics.median(times["former"]), statistics.median(times["strict"])
            rows.append({"size_mib": round(path.stat().st_size / 2**20, 2), "former_s": round(old, 3),
                         "strict_s": round(new, 3), "speedup": round(old / new, 1),
                         "libyaml": yaml.__with_libyaml__, "repeat": args.repeat})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{'MiB':>6} {'former s':>9} {'strict s':>9} {'speedup':>8}")
    for r in rows:
        print(f"{r['size_mib']:>6} {r['former_s']:>9} {r['strict_s']:>9} {r['speedup']:>7}x")
    print(f"medians of {args.repeat} runs; written to {out}")


if __name__ == "__main__":
    main()
