"""Read an instance: the only code that opens input files.

An instance is a folder holding ``instance.yaml`` and one CSV file per table, or an
``instance.yaml`` that names an Excel workbook (one sheet per table), or a bare workbook with a
``settings`` sheet of ``key, value`` rows. Every command accepts the folder, the YAML file or the
workbook.

Reading keeps every cell as text: typing, ranges and references are the job of
:mod:`siting.instance.check`, so that ``--set`` overrides go through the same checks as the files.
The index of every table is the row number a planner sees in a spreadsheet (header = row 1).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from siting.errors import InputError, Problem, ProblemCollector, suggest, visible
from siting.instance.cells import clean_table, header_twice, title_above_header
from siting.instance.files import MAX_CSV_FIELD, MAX_TABLE_BYTES, decode_utf8, file_problem, read_limited
from siting.instance.schema import TABLES, Table
from siting.instance.yamlfile import load_yaml

YAML_NAMES = ("instance.yaml", "instance.yml")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
#: Files read as geographic layers rather than CSV.
GEO_SUFFIXES = (".geojson", ".json", ".gpkg")


@dataclass(frozen=True)
class RawInstance:
    """An instance as read from disk: top-level fields, raw settings and text tables.

    Attributes
    ----------
    name
        Instance name (from ``instance.yaml`` or the workbook's settings sheet).
    root
        Folder the instance lives in.
    path
        The file or folder the planner named.
    spec
        Top level of ``instance.yaml`` other than ``settings`` and ``tables`` (name, description,
        sources, assumptions, workbook).
    settings
        The ``settings`` mapping, values as written.
    tables
        Table name -> DataFrame of strings, indexed by spreadsheet row number.
    origins
        Table name -> where it came from, for messages (``sites.csv``, ``data.xlsx[sites]``).
    sha256
        Hash of every input file, so a result can be traced to its exact data.
    overrides
        ``--set`` paths applied so far, in order.
    overridden
        Where each overridden value came from: ``(table, row, column)`` or ``("settings", field)``
        -> ``--set PATH=VALUE``, so that a problem with it names the flag, not the file.
    layers
        Polygon layer name (``regions``, ``hazard_zones``) -> GeoDataFrame in WGS84, from
        ``layers:`` in ``instance.yaml`` (see :mod:`siting.instance.geo`).
    problems
        Problems found while reading, kept for the checks to list with their own when the
        instance was read with ``partial=True`` (``siting validate``); empty otherwise.
    broken
        Tables that were not read whole (a file that could not be read, rows of the wrong
        width, a missing required table): checks that depend on their rows are skipped, so that
        one problem is not reported again as a cascade of others.
    inputs
        Every file read (``instance.yaml``, tables, layers, workbook), resolved: a results folder
        must never hold one of them (:func:`siting.report.write.check_out_dir`).
    """

    name: str
    root: Path
    path: Path
    spec: dict
    settings: dict
    tables: dict[str, pd.DataFrame]
    origins: dict[str, str]
    sha256: str
    overrides: tuple[str, ...] = field(default_factory=tuple)
    overridden: dict = field(default_factory=dict)
    layers: dict = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    broken: frozenset[str] = frozenset()
    inputs: tuple[Path, ...] = ()

    def with_changes(self, **changes) -> RawInstance:
        """Return a copy with some fields replaced."""
        return replace(self, **changes)


def read_instance(path: str | Path, partial: bool = False) -> RawInstance:
    """Read the instance at ``path`` (folder, ``instance.yaml`` or workbook).

    Parameters
    ----------
    path
        The folder, its ``instance.yaml``, or a workbook.
    partial
        Keep the problems of tables that could not be read whole in ``problems`` (and read the
        rest) instead of raising, so that the checks can list them with every other problem.
        A file that cannot be read at all (the YAML itself, the workbook) still raises.

    Raises
    ------
    InputError
        Listing every file-level problem found (missing files, malformed YAML/CSV/Excel).
    """
    path = Path(path)
    if os.path.isdir(path):
        yaml_path = next((path / n for n in YAML_NAMES if os.path.lexists(path / n)), None)
        if yaml_path is None:
            raise InputError(Problem(str(path), "folder has no instance.yaml",
                                     "create one with `siting init DIR` or point at the workbook"))
        return _read_yaml_instance(yaml_path, named=path, partial=partial)
    problem, _ = file_problem(path, str(path), "no such file or folder",
                              "give an instance folder, its instance.yaml or an .xlsx workbook")
    if problem is not None:
        raise InputError(problem)
    if path.suffix.lower() in (".yaml", ".yml"):
        return _read_yaml_instance(path, named=path, partial=partial)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _read_bare_workbook(path, partial)
    raise InputError(Problem(str(path), f"unknown kind of file '{path.suffix}'",
                             "give an instance folder, a .yaml file or an .xlsx workbook"))


def _hash_files(files: list[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        digest.update(f.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        # read as the files were: a file swapped for a FIFO since cannot block here either
        data = read_limited(f, f.name, 2**40, "input files")
        if isinstance(data, Problem):
            raise InputError(data)
        digest.update(data)
    return digest.hexdigest()


def _load_yaml(yaml_path: Path) -> dict:
    data = load_yaml(yaml_path, kind="instance files", fix="give the instance's YAML file")
    if data is None or data == {}:
        raise InputError(Problem(yaml_path.name, "is empty",
                                 "write name:, settings: and tables: (`siting init DIR` writes a complete example)"))
    if not isinstance(data, dict):
        raise InputError(Problem(yaml_path.name, "top level is not a mapping",
                                 "start with 'name: ...' and 'settings:' keys"))
    return data


def _inside(root: Path, rel: str, where: str, found: ProblemCollector) -> Path | None:
    try:
        target = (root / rel).resolve()
    except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError for a loop
        found.add(where, f"'{rel}' is a symbolic link loop (the links lead back to themselves)",
                  "point the link at the file or give the file itself")
        return None
    if root.resolve() not in target.parents and target != root.resolve():
        found.add(where, f"'{rel}' points outside the instance folder",
                  "keep every table file inside the instance folder")
        return None
    return target


def _read_yaml_instance(yaml_path: Path, named: Path, partial: bool = False) -> RawInstance:
    root = yaml_path.resolve().parent
    data = _load_yaml(yaml_path)
    found = ProblemCollector()
    broken: set[str] = set()
    known = {"name", "description", "settings", "tables", "workbook", "sources", "assumptions", "layers"}
    for key in data:
        if key not in known:
            found.add(f"{yaml_path.name} key '{visible(str(key))}'", "unknown key",
                      suggest(str(key), known, "use one of: " + ", ".join(sorted(known))))
    settings = data.get("settings")
    if not settings:
        # every setting would silently take its default (USD million, 8%, 10 years)
        found.add(yaml_path.name, "has no settings",
                  "write 'settings:' with at least currency, money_unit, discount_rate and lifetime_years "
                  "(docs/format.md lists every setting and its default)")
        settings = {}
    elif not isinstance(settings, dict):
        found.add(f"{yaml_path.name} settings", "is not a mapping",
                  "write 'settings:' then indented 'key: value' lines")
        settings = {}
    table_files = data.get("tables") or {}
    if not isinstance(table_files, dict):
        found.add(f"{yaml_path.name} tables", "is not a mapping", "write 'tables:' then 'sites: sites.csv' lines")
        table_files = {}
    for tname in table_files:
        if tname not in TABLES:
            found.add(f"{yaml_path.name} tables.{visible(str(tname))}", "unknown table",
                      suggest(str(tname), TABLES, "tables are: " + ", ".join(TABLES)))
    files = [yaml_path.resolve()]
    tables: dict[str, pd.DataFrame] = {}
    origins: dict[str, str] = {}
    workbook = data.get("workbook")
    if workbook:
        where = f"{yaml_path.name} workbook"
        wb_path = _inside(root, str(workbook), where, found)
        if wb_path is not None:
            problem, _ = file_problem(wb_path, where, f"file '{workbook}' not found",
                                      "put the workbook beside instance.yaml or fix the name")
            if problem is not None:
                found.add(problem.location, problem.problem, problem.fix)
            else:
                files.append(wb_path)
                from siting.instance.workbook import read_workbook_sheets  # openpyxl only when needed

                sheets = read_workbook_sheets(wb_path, found, broken)
                tables, origins = _sheet_tables(sheets, wb_path.name)
    for tname, table in TABLES.items():
        if tname in tables:
            continue
        rel = table_files.get(tname)
        if rel is None:
            if os.path.lexists(root / f"{tname}.csv"):
                rel = f"{tname}.csv"
            else:
                continue
        where = f"{yaml_path.name} tables.{tname}"
        csv_path = _inside(root, str(rel), where, found)
        broken.add(tname)  # until read whole
        if csv_path is None:
            continue
        if csv_path.suffix.lower() in GEO_SUFFIXES:
            problem, _ = file_problem(csv_path, where, f"file '{rel}' not found", "create it or fix the file name")
            if problem is not None:
                found.add(problem.location, problem.problem, problem.fix)
                continue
            df = _read_point_layer(csv_path, tname, f"{where} ({rel})", found)
            whole = df is not None
        else:
            df, whole = _read_csv(csv_path, found, table, where, rel)
        if df is not None:
            files.append(csv_path)
            tables[tname] = df
            origins[tname] = csv_path.name
        if whole:
            broken.discard(tname)
    broken |= _report_missing_tables(tables, broken, found, Path(str(workbook)).name if workbook else None,
                                     yaml_path.name)
    layers = _read_layers(root, data.get("layers"), yaml_path.name, files, found)
    if not partial:
        found.raise_if_any()
    name = str(data.get("name") or root.name)
    spec = {k: v for k, v in data.items() if k not in ("settings", "tables", "layers")}
    spec.setdefault("name", name)
    return RawInstance(name=name, root=root, path=named, spec=spec, settings=dict(settings),
                       tables=tables, origins=origins, sha256=_hash_files(files, root), layers=layers,
                       problems=tuple(found.problems), broken=frozenset(broken), inputs=tuple(files))


def _read_geo_file(path: Path, layer: str, where: str, found: ProblemCollector):
    """A GeoJSON file, or one layer of a GeoPackage (the layer called ``layer``, or its only layer)."""
    import geopandas as gpd
    import pyogrio

    try:
        name = None
        if path.suffix.lower() == ".gpkg":
            names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
            if layer in names:
                name = layer
            elif len(names) == 1:
                name = names[0]
            else:
                found.add(where, f"has layers {', '.join(names)} and none is called '{layer}'",
                          f"name the layer '{layer}' or keep one layer in the file")
                return None
        return gpd.read_file(path, layer=name) if name else gpd.read_file(path)
    except Exception as exc:  # GDAL reports a broken file in many ways
        found.add(where, f"cannot be read as a GeoJSON or GeoPackage file ({type(exc).__name__})",
                  "export it again from your GIS as GeoJSON or GeoPackage")
        return None


def _read_point_layer(path: Path, tname: str, where: str, found: ProblemCollector) -> pd.DataFrame | None:
    """A point table from GeoJSON/GeoPackage, as text cells with lat and lon like a CSV table."""
    from siting.instance.geo import POINT_TABLES, layer_to_table

    if tname not in POINT_TABLES:
        found.add(where, f"a {path.suffix} file holds places, and {tname} are not places",
                  f"give {tname} as a CSV file; only {', '.join(POINT_TABLES)} may be point layers")
        return None
    gdf = _read_geo_file(path, tname, where, found)
    return None if gdf is None else layer_to_table(gdf, where, found)


def _read_layers(root: Path, spec, yaml_name: str, files: list[Path], found: ProblemCollector) -> dict:
    """The polygon layers named under ``layers:`` in instance.yaml, checked and in WGS84."""
    from siting.instance.geo import LAYER_COLUMNS, check_polygon_layer

    if not spec:
        return {}
    if not isinstance(spec, dict):
        found.add(f"{yaml_name} layers", "is not a mapping", "write 'layers:' then 'hazard_zones: zones.geojson' lines")
        return {}
    out = {}
    for name, rel in spec.items():
        where = f"{yaml_name} layers.{name}"
        if name not in LAYER_COLUMNS:
            found.add(where, "unknown layer",
                      suggest(str(name), LAYER_COLUMNS, "layers are: " + ", ".join(LAYER_COLUMNS)))
            continue
        path = _inside(root, str(rel), where, found)
        if path is None:
            continue
        problem, _ = file_problem(path, where, f"file '{rel}' not found", "create it or fix the file name")
        if problem is not None:
            found.add(problem.location, problem.problem, problem.fix)
            continue
        if path.suffix.lower() not in GEO_SUFFIXES:
            found.add(where, f"'{rel}' is not a GeoJSON or GeoPackage file", "give a .geojson or .gpkg file")
            continue
        files.append(path)
        gdf = _read_geo_file(path, name, f"{where} ({rel})", found)
        if gdf is not None:
            gdf = check_polygon_layer(name, gdf, f"{where} ({rel})", found)
            if gdf is not None:
                out[name] = gdf
    return out


def _read_bare_workbook(path: Path, partial: bool = False) -> RawInstance:
    found = ProblemCollector()
    broken: set[str] = set()
    from siting.instance.workbook import read_workbook_sheets  # openpyxl only when needed

    sheets = read_workbook_sheets(path, found, broken)
    settings_sheet = sheets.pop("settings", None)
    if settings_sheet is None:
        found.raise_if_any()
        raise InputError(Problem(path.name, "workbook has no 'settings' sheet",
                                 "add a sheet 'settings' with columns key, value (name, currency, ...)"))
    if not {"key", "value"} <= set(settings_sheet.columns):
        found.add(f"{path.name}[settings]", "needs the columns key and value",
                  "write one setting per row: key in column A, value in column B")
        found.raise_if_any()
    settings = {}
    spec: dict = {}
    rows: dict[str, int] = {}
    for row_no, row in settings_sheet.iterrows():
        key, value = row["key"], row["value"]
        if not key:
            continue
        if key in rows:
            found.add(f"{path.name}[settings] row {row_no}",
                      f"setting '{visible(key)}' is given twice (rows {rows[key]} and {row_no})", "keep one of them")
        rows[key] = row_no
        if key in ("name", "description"):
            spec[key] = value
        elif value != "":
            settings[key] = value
    sources_sheet = sheets.pop("sources", None)
    if sources_sheet is not None:
        spec["sources"] = [dict(r) for _, r in sources_sheet.iterrows()]
    tables, origins = _sheet_tables(sheets, path.name)
    broken |= _report_missing_tables(tables, broken, found, path.name, "")
    for sname in sheets:
        if sname not in TABLES:
            found.add(f"{path.name}[{visible(sname)}]", "unknown sheet",
                      suggest(sname, TABLES, "sheets are: settings, sources, " + ", ".join(TABLES)))
    if not partial:
        found.raise_if_any()
    name = str(spec.get("name") or path.stem)
    spec["name"] = name
    return RawInstance(name=name, root=path.resolve().parent, path=path, spec=spec, settings=settings,
                       tables=tables, origins=origins, sha256=_hash_files([path.resolve()], path.resolve().parent),
                       problems=tuple(found.problems), broken=frozenset(broken), inputs=(path.resolve(),))


def _sheet_tables(sheets: dict[str, pd.DataFrame], book: str) -> tuple[dict, dict]:
    """The sheets that are tables, and where each came from (``book.xlsx[sites]``)."""
    tables = {name: df for name, df in sheets.items() if name in TABLES}
    return tables, {name: f"{book}[{name}]" for name in tables}


def _report_missing_tables(tables: dict, broken: set[str], found: ProblemCollector, book: str | None,
                           yaml_name: str) -> set[str]:
    """Report each required table that is absent (a sheet of ``book``, or a CSV file), and the
    bill of materials where offers or inputs are given without it: every purchase would then be
    vacuous, and the plan would buy nothing. Returns the tables reported."""
    missing = set()
    for tname, table in TABLES.items():
        if tname in tables or tname in broken:
            continue
        given = [t for t in ("offers", "inputs") if t in tables] if tname == "bom" else []
        if not table.required and not given:
            continue
        what = (f", but {' and '.join(given)} {'are' if len(given) > 1 else 'is'} given: without it no input is "
                "ever bought" if given else "")
        if book is not None:
            found.add(book, f"sheet '{tname}' is missing{what}", f"add a sheet named {tname} ({table.doc.rstrip('.')})")
        else:
            found.add(f"{yaml_name} tables", f"table '{tname}' is missing{what}",
                      f"add {tname}.csv ({table.doc.rstrip('.')}) and list it under 'tables:'")
        missing.add(tname)
    return missing


_CSV_FIX = "save it as 'CSV UTF-8 (comma delimited)'"


def _read_csv(path: Path, found: ProblemCollector, table: Table | None = None, where: str | None = None,
              rel: str | None = None) -> tuple[pd.DataFrame | None, bool]:
    """A CSV table as text cells, and whether it was read whole.

    A table with rows of the wrong width keeps its other rows (so that their cells are checked
    too) but is not whole: the ids of the rows left out are unknown.
    """
    raw = read_limited(path, where or path.name, MAX_TABLE_BYTES, "a CSV table",
                       f"file '{rel or path.name}' not found", "create it or fix the file name")
    if isinstance(raw, Problem):
        found.add(raw.location, raw.problem, raw.fix)
        return None, False
    text = decode_utf8(raw, path.name, _CSV_FIX, rows="row")
    if isinstance(text, Problem):
        found.add(text.location, text.problem, text.fix)
        return None, False
    if not text.strip():
        found.add(path.name, "is empty", "write a header row with the column names")
        return None, False
    header = text.splitlines()[0]
    if "," not in header and any(d in header for d in (";", "\t", "|")):
        delim = next(d for d in (";", "\t", "|") if d in header)
        shown = "tab" if delim == "\t" else f"'{delim}'"
        found.add(path.name, f"columns are separated by {shown}, not commas", _CSV_FIX)
        return None, False
    rows = _csv_rows(text, path.name, found)
    if rows is None:
        return None, False
    if table is not None and title_above_header(path.name, rows, table, found):
        return None, False
    width = len(rows[0])
    blank = [n for n, name in enumerate(rows[0], start=1) if not name.strip()]
    if blank:
        found.add(f"{path.name} column {blank[0]}", "has no name in the header (a trailing comma?)",
                  "name every column in row 1 or remove the empty one")
        return None, False
    if header_twice(path.name, rows[0], found):
        return None, False
    whole = True
    keep: list[int] = []  # row numbers follow the file even where blank lines or bad rows are left out
    for n, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            found.add(f"{path.name} row {n}", f"has {len(row)} fields, the header has {width}",
                      "check for a stray comma or an unquoted comma inside a value")
            whole = False
            continue
        keep.append(n)
    df = pd.DataFrame([rows[n - 1] for n in keep] or None, columns=rows[0])
    if df.empty:
        df = pd.DataFrame(columns=rows[0])
    df = clean_table(df)
    df.index = pd.Index(keep, dtype="int64") if keep else pd.RangeIndex(2, 2)
    return df, whole


def _csv_rows(text: str, name: str, found: ProblemCollector) -> list[list[str]] | None:
    """Split CSV text into rows of cells; a quote that is never closed is reported at its row.

    A quote left open swallows every comma and line break after it, so the row it starts in
    would otherwise be reported with the wrong number of fields, or the whole file would become
    one header cell. A cell longer than :data:`~siting.instance.files.MAX_CSV_FIELD` characters
    is reported at its row (often the same open quote, swallowing the rest of the file).
    """
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        for row in reader:
            rows.append(row)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            return _too_long(name, reader.line_num, found)
        if "unexpected end of data" in str(exc):
            found.add(f"{name} row {len(rows) + 1}", 'has a quote (") that is never closed', "close it or remove it")
            return None
        # other irregular quoting ('"a"b') is read leniently, as spreadsheet programs do
        reader = csv.reader(io.StringIO(text))
        try:
            rows = list(reader)
        except csv.Error:
            return _too_long(name, reader.line_num, found)
    return rows


def _too_long(name: str, line: int, found: ProblemCollector) -> None:
    found.add(f"{name} line {line}", f"has a cell longer than {MAX_CSV_FIELD:,} characters, the limit for a CSV cell",
              "check for a quote (\") that is never closed, or shorten the cell")
    return None
