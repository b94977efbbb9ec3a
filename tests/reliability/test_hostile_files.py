# ruff: noqa: E501  (expected messages are kept whole, one per line, as the tool prints them)
"""Hostile files: FIFOs, devices, folders, link loops, YAML and zip bombs, oversized cells.

Each case builds its hostile file in the test's folder, runs the real CLI in-process and asserts
exit code 2, the exact message, and that no results folder was created. An alarm fails a case
that blocks (a FIFO opened for reading waits for a writer forever) instead of hanging the suite.
"""

from __future__ import annotations

import os
import signal
import struct
import zipfile
from pathlib import Path

import openpyxl
import pytest

from siting.cli import main
from tests.reliability.base import BASE, write_base


@pytest.fixture(autouse=True)
def no_hang():
    """Fail, rather than hang, a case that blocks."""
    def stop(signum, frame):
        raise TimeoutError("the tool blocked on a hostile file")
    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def refused(tmp_path: Path, capsys, *args: str) -> str:
    """Run ``siting ARGS --out tmp/out`` (solve) or ARGS as given; exit 2, nothing written,
    one message; returns standard error without its final newline."""
    capsys.readouterr()
    out = tmp_path / "out"
    argv = [*args, "--out", str(out)] if args[0] in ("solve", "compare") else list(args)
    code = main(argv)
    o, err = capsys.readouterr()
    assert "Traceback" not in o + err
    assert code == 2, err
    assert not out.exists(), "a results folder was created"
    return err.rstrip("\n").replace(str(tmp_path), "{tmp}")


# ---- files that are not regular files --------------------------------------------------------

def test_a_fifo_as_instance_yaml_is_refused_without_blocking(tmp_path, capsys):
    inst = write_base(tmp_path / "inst")
    (inst / "instance.yaml").unlink()
    os.mkfifo(inst / "instance.yaml")
    assert refused(tmp_path, capsys, "solve", str(inst)) == (
        "instance.yaml | is a FIFO (named pipe), not a file; give the instance's YAML file")


def test_a_fifo_named_as_the_instance_is_refused(tmp_path, capsys):
    os.mkfifo(tmp_path / "instance.yaml")
    assert refused(tmp_path, capsys, "validate", str(tmp_path / "instance.yaml")) == (
        "{tmp}/instance.yaml | is a FIFO (named pipe), not a file; give an instance folder, its instance.yaml or an .xlsx workbook")


def test_a_fifo_as_a_table_is_refused(tmp_path, capsys):
    inst = write_base(tmp_path / "inst")
    (inst / "sites.csv").unlink()
    os.mkfifo(inst / "sites.csv")
    assert refused(tmp_path, capsys, "solve", str(inst)) == (
        "instance.yaml tables.sites | is a FIFO (named pipe), not a file; create it or fix the file name")


def test_a_fifo_as_a_workbook_is_refused(tmp_path, capsys):
    inst = write_base(tmp_path / "inst")
    (inst / "instance.yaml").write_text("name: t\nworkbook: data.xlsx\nsettings: {money_unit: one}\n")
    os.mkfifo(inst / "data.xlsx")
    assert refused(tmp_path, capsys, "solve", str(inst)) == (
        "instance.yaml workbook | is a FIFO (named pipe), not a file; put the workbook beside instance.yaml or fix the name")


def test_a_fifo_as_a_designs_file_is_refused(tmp_path, capsys):
    inst = write_base(tmp_path / "inst")
    os.mkfifo(tmp_path / "designs.yaml")
    assert refused(tmp_path, capsys, "compare", str(inst), "--designs", str(tmp_path / "designs.yaml")) == (
        "{tmp}/designs.yaml | is a FIFO (named pipe), not a file; give the designs YAML file, e.g. instances/jasm/designs.yaml")


def test_fifos_as_geographic_layers_are_refused(tmp_path, capsys):
    inst = write_base(tmp_path / "inst")
    (inst / "instance.yaml").write_text(
        "name: t\nsettings: {money_unit: one}\ntables: {sites: sites.geojson}\nlayers: {regions: regions.geojson}\n")
    os.mkfifo(inst / "sites.geojson")
    os.mkfifo(inst / "regions.geojson")
    assert refused(tmp_path, capsys, "solve", str(inst)).splitlines() == [
        "instance.yaml tables.sites | is a FIFO (named pipe), not a file; create it or fix the file name",
        "instance.yaml layers.regions | is a FIFO (named pipe), not a file; create it or fix the file name"]


def test_a_folder_named_as_a_table_is_a_folder_not_missing(tmp_path, capsys):
    inst = write_base(tmp_path / "inst")
    (inst / "sites.csv").unlink()
    (inst / "sites.csv").mkdir()
    assert refused(tmp_path, capsys, "solve", str(inst)) == (
        "instance.yaml tables.sites | is a folder, not a file; create it or fix the file name")


def test_a_device_behind_a_link_is_refused_without_reading_it(tmp_path, capsys):
    inst = write_base(tmp_path / "inst")
    (inst / "instance.yaml").unlink()
    (inst / "instance.yaml").symlink_to("/dev/zero")  # would never end
    assert refused(tmp_path, capsys, "solve", str(inst)) == (
        "instance.yaml | is a device, not a file; give the instance's YAML file")


def test_a_symlink_loop_is_located(tmp_path, capsys):
    inst = write_base(tmp_path / "inst")
    (inst / "sites.csv").unlink()
    (inst / "sites.csv").symlink_to("loop.csv")
    (inst / "loop.csv").symlink_to("sites.csv")
    assert refused(tmp_path, capsys, "solve", str(inst)) == (
        "instance.yaml tables.sites | 'sites.csv' is a symbolic link loop (the links lead back to themselves); point the link at the file or give the file itself")


def test_a_symlink_loop_named_as_the_instance_is_located(tmp_path, capsys):
    (tmp_path / "a.yaml").symlink_to("b.yaml")
    (tmp_path / "b.yaml").symlink_to("a.yaml")
    assert refused(tmp_path, capsys, "validate", str(tmp_path / "a.yaml")) == (
        "{tmp}/a.yaml | is a symbolic link loop (the links lead back to themselves); point the link at the file or give the file itself")


# ---- sizes ----------------------------------------------------------------------------------

def test_an_oversized_instance_yaml_names_the_limit(tmp_path, capsys):
    inst = write_base(tmp_path / "inst")
    with open(inst / "instance.yaml", "ab") as f:
        f.truncate(9 * 2**20)  # sparse: no time spent writing it
    assert refused(tmp_path, capsys, "solve", str(inst)) == (
        "instance.yaml | is larger than 8 MiB, the limit for instance files; instance files hold far less; check that this is the right file")


def test_a_csv_cell_over_the_field_limit_is_located(tmp_path, capsys):
    inst = write_base(tmp_path / "inst")
    (inst / "products.csv").write_text("id,name\nchip," + "x" * 140_000 + "\n")
    assert refused(tmp_path, capsys, "solve", str(inst)) == (
        'products.csv line 2 | has a cell longer than 131,072 characters, the limit for a CSV cell; check for a quote (") that is never closed, or shorten the cell')


def _workbook(path: Path, edit=None) -> Path:
    """BASE as a bare workbook (settings sheet + one sheet per table), edited by ``edit``."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "settings"
    for row in (("key", "value"), ("name", "book"), ("money_unit", "one"), ("discount_rate", 0), ("lifetime_years", 1)):
        ws.append(row)
    for tname, text in BASE.items():
        sheet = wb.create_sheet(tname)
        for line in text.splitlines():
            sheet.append([_number_or_text(v) for v in line.split(",")])
    if edit is not None:
        edit(wb)
    wb.save(path)
    return path


def _number_or_text(value: str):
    try:
        return float(value)
    except ValueError:
        return value


def test_a_zip_bomb_workbook_is_refused_before_it_is_opened(tmp_path, capsys):
    """The sheet's declared uncompressed size is raised to 4 GiB in the zip's central directory:
    refused from the declaration, without inflating anything."""
    book = _workbook(tmp_path / "book.xlsx")
    data = bytearray(book.read_bytes())
    at = data.find(b"PK\x01\x02")  # first central directory entry
    while at >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46: at + 46 + name_len].startswith(b"xl/worksheets/"):
            struct.pack_into("<I", data, at + 24, 0xFFFFFFF0)  # uncompressed size
            break
        at = data.find(b"PK\x01\x02", at + 4)
    book.write_bytes(bytes(data))
    assert max(i.file_size for i in zipfile.ZipFile(book).infolist()) == 0xFFFFFFF0
    assert refused(tmp_path, capsys, "solve", str(book)) == (
        "book.xlsx | declares 4,096 MiB once uncompressed, more than 512 MiB, the limit for a workbook; an instance's workbook holds far less (is it a zip bomb?); check that this is the right file")


# ---- YAML --------------------------------------------------------------------------------------

LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))
NO_ALIAS = "aliases (&name, *name, <<) are not accepted in siting's YAML files; write the values out"


def _yaml(tmp_path: Path, text: str) -> Path:
    inst = write_base(tmp_path / "inst")
    (inst / "instance.yaml").write_text(text)
    return inst


@pytest.mark.parametrize("text, expected", [
    ("name: t\nsettings: {money_unit: one}\n" + LAUGHS, f"instance.yaml line 4 | uses a YAML alias (*name); {NO_ALIAS}"),
    ("name: t\nsettings: &s\n  money_unit: one\n  again: *s\n", f"instance.yaml line 4 | uses a YAML alias (*name); {NO_ALIAS}"),
    ("name: &n t\ndescription: *n\nsettings: {money_unit: one}\n", f"instance.yaml line 2 | uses a YAML alias (*name); {NO_ALIAS}"),
    ("base: &b {money_unit: one}\nsettings:\n  <<: *b\n", f"instance.yaml line 3 | uses a YAML merge key (<<); {NO_ALIAS}"),
    ("name: t\nsettings: {money_unit: one, lifetime_years: on}\n",
     "instance.yaml line 2 | 'on' without quotes is true or false to some YAML readers and text to others; write it in quotes (\"on\") if you mean the text, true or false for a yes/no setting, or a number"),
    ("name: t\nsettings:\n  money_unit: one\n  currency: NO\n",
     "instance.yaml line 4 | 'NO' without quotes is true or false to some YAML readers and text to others; write it in quotes (\"NO\") if you mean the text, true or false for a yes/no setting, or a number"),
    ("name: t\nsettings: {money_unit: one, currency: yes}\n",
     "instance.yaml line 2 | 'yes' without quotes is true or false to some YAML readers and text to others; write it in quotes (\"yes\") if you mean the text, true or false for a yes/no setting, or a number"),
    ("", "instance.yaml | is empty; write name:, settings: and tables: (`siting init DIR` writes a complete example)"),
    ("# nothing but a comment\n", "instance.yaml | is empty; write name:, settings: and tables: (`siting init DIR` writes a complete example)"),
    ("name: t\n", "instance.yaml | has no settings; write 'settings:' with at least currency, money_unit, discount_rate and lifetime_years (docs/format.md lists every setting and its default)"),
    ("name: t\nname: u\nsettings: {money_unit: one}\n", "instance.yaml line 2 | key 'name' is given twice (lines 1 and 2); keep one of them"),
    ("a: " + "[" * 990 + "]" * 990 + "\n", "instance.yaml | nests lists or mappings hundreds of levels deep; siting's YAML files need a few levels; check that this is the right file"),
], ids=["billion-laughs", "recursive-alias", "plain-alias", "merge-key", "on-as-number", "NO-as-currency",
        "yes-as-currency", "empty", "only-a-comment", "no-settings", "repeated-top-key", "deep-nesting"])
def test_hostile_yaml_in_instance_yaml(tmp_path, capsys, text, expected):
    assert refused(tmp_path, capsys, "solve", str(_yaml(tmp_path, text))) == expected


def test_quoted_words_and_dates_are_text(tmp_path, capsys):
    """'NO' in quotes is Norway's code, a date is text: both read as written."""
    from siting.instance.read import read_instance

    inst = _yaml(tmp_path, 'name: t\ndescription: 2021-11-09\nsettings: {money_unit: one, policy_country: "NO", lifetime_years: 1e1}\n')
    raw = read_instance(inst)
    assert raw.settings["policy_country"] == "NO"
    assert raw.settings["lifetime_years"] == 10.0
    assert raw.spec["description"] == "2021-11-09"


@pytest.mark.parametrize("text, expected", [
    ("packages:\n" + "".join(f"  {line}" for line in LAUGHS.splitlines(True)), f"designs.yaml line 3 | uses a YAML alias (*name); {NO_ALIAS}"),
    ("packages: &p\n  x: *p\n", f"designs.yaml line 2 | uses a YAML alias (*name); {NO_ALIAS}"),
    ("packages:\n  p: {description: a}\n  p: {description: b}\n", "designs.yaml line 3 | key 'p' is given twice (lines 2 and 3); keep one of them"),
    ("policy_country: no\npackages: {}\n", "designs.yaml line 1 | 'no' without quotes is true or false to some YAML readers and text to others; write it in quotes (\"no\") if you mean the text, true or false for a yes/no setting, or a number"),
], ids=["billion-laughs", "recursive-alias", "repeated-package", "no-as-country"])
def test_hostile_yaml_in_a_designs_file(tmp_path, capsys, text, expected):
    inst = write_base(tmp_path / "inst")
    designs = tmp_path / "designs.yaml"
    designs.write_text(text)
    assert refused(tmp_path, capsys, "compare", str(inst), "--designs", str(designs)) == expected
