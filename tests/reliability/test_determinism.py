"""The same instance, options and seed give byte-identical results, apart from times and the
timestamp; a run stopped by a time limit is honest about its gap."""

from __future__ import annotations

import json
from pathlib import Path

from siting.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
VOLATILE = {"summary.json": ("times",), "manifest.json": ("created",)}


def _snapshot(folder: Path) -> dict[str, bytes | dict]:
    out: dict[str, bytes | dict] = {}
    for path in sorted(folder.iterdir()):
        if path.name in VOLATILE:
            data = json.loads(path.read_text())
            for key in VOLATILE[path.name]:
                data.pop(key)
            data.get("sha256", {}).pop("summary.json", None)  # summary.json holds the times
            out[path.name] = data
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
