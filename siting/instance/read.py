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
import difflib
import hashlib
import io
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import yaml

from siting.errors import InputError, Problem, ProblemCollector
from siting.instance.schema import TABLES, Table, key_label

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
    inputs: tuple[Path, ...] = ()

    def with_changes(self, **changes) -> RawInstance:
        """Return a copy with some fields replaced."""
        return replace(self, **changes)


def read_instance(path: str | Path) -> RawInstance:
    """Read the instance at ``path`` (folder, ``instance.yaml`` or workbook).

    Raises
    ------
    InputError
        Listing every file-level problem found (missing files, malformed YAML/CSV/Excel).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(Problem(str(path), "no such file or folder",
                                 "give an instance folder, its instance.yaml or an .xlsx workbook"))
    if path.is_dir():
        yaml_path = next((path / n for n in YAML_NAMES if (path / n).is_file()), None)
        if yaml_path is None:
            raise InputError(Problem(str(path), "folder has no instance.yaml",
                                     "create one with `siting init DIR` or point at the workbook"))
        return _read_yaml_instance(yaml_path, named=path)
    if path.suffix.lower() in (".yaml", ".yml"):
        return _read_yaml_instance(path, named=path)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _read_bare_workbook(path)
    raise InputError(Problem(str(path), f"unknown kind of file '{path.suffix}'",
                             "give an instance folder, a .yaml file or an .xlsx workbook"))


def _hash_files(files: list[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        digest.update(f.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(f.read_bytes())
    return digest.hexdigest()


def _load_yaml(yaml_path: Path) -> dict:
    try:
        text = yaml_path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(Problem(yaml_path.name, "is not UTF-8 text", "save it as UTF-8")) from None
    try:
        data = yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        where = f"{yaml_path.name} line {mark.line + 1}" if mark else yaml_path.name
        raise InputError(Problem(where, f"YAML tag not allowed ({exc.problem})",
                                 "write plain values; tags such as !!python are refused")) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{yaml_path.name} line {mark.line + 1}" if mark else yaml_path.name
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(Problem(where, f"malformed YAML: {problem}",
                                 "check indentation and that every key is followed by ':'")) from None
    _refuse_repeated_keys(yaml.compose(text, Loader=yaml.SafeLoader), yaml_path.name)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(Problem(yaml_path.name, "top level is not a mapping",
                                 "start with 'name: ...' and 'settings:' keys"))
    return data


def _refuse_repeated_keys(node, where: str, parent: str = "") -> None:
    """YAML keeps the last of two equal keys without a word; a planner who wrote a setting twice
    must hear about it instead of getting one of the values silently."""
    if isinstance(node, yaml.MappingNode):
        seen: dict = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name is not None and name in seen:
                word = "setting" if parent == "settings" else "key"
                line = key.start_mark.line + 1
                raise InputError(Problem(f"{where} line {line}",
                                         f"{word} '{name}' is given twice (lines {seen[name]} and {line})",
                                         "keep one of them"))
            if name is not None:
                seen[name] = key.start_mark.line + 1
            _refuse_repeated_keys(value, where, name or "")
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_repeated_keys(item, where, parent)


def _inside(root: Path, rel: str, where: str, found: ProblemCollector) -> Path | None:
    target = (root / rel).resolve()
    if root.resolve() not in target.parents and target != root.resolve():
        found.add(where, f"'{rel}' points outside the instance folder",
                  "keep every table file inside the instance folder")
        return None
    return target


def _read_yaml_instance(yaml_path: Path, named: Path) -> RawInstance:
    root = yaml_path.resolve().parent
    data = _load_yaml(yaml_path)
    found = ProblemCollector()
    known = {"name", "description", "settings", "tables", "workbook", "sources", "assumptions", "layers"}
    for key in data:
        if key not in known:
            found.add(f"{yaml_path.name} key '{key}'", "unknown key",
                      suggest(str(key), known, "use one of: " + ", ".join(sorted(known))))
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        found.add(f"{yaml_path.name} settings", "is not a mapping",
                  "write 'settings:' then indented 'key: value' lines")
        settings = {}
    table_files = data.get("tables") or {}
    if not isinstance(table_files, dict):
        found.add(f"{yaml_path.name} tables", "is not a mapping", "write 'tables:' then 'sites: sites.csv' lines")
        table_files = {}
    for tname in table_files:
        if tname not in TABLES:
            found.add(f"{yaml_path.name} tables.{tname}", "unknown table",
                      suggest(str(tname), TABLES, "tables are: " + ", ".join(TABLES)))
    files = [yaml_path.resolve()]
    tables: dict[str, pd.DataFrame] = {}
    origins: dict[str, str] = {}
    workbook = data.get("workbook")
    if workbook:
        wb_path = _inside(root, str(workbook), f"{yaml_path.name} workbook", found)
        if wb_path is not None:
            if not wb_path.is_file():
                found.add(f"{yaml_path.name} workbook", f"file '{workbook}' not found",
                          "put the workbook beside instance.yaml or fix the name")
            else:
                files.append(wb_path)
                tables, origins = _sheet_tables(_read_workbook_sheets(wb_path, found), wb_path.name)
    for tname, table in TABLES.items():
        if tname in tables:
            continue
        rel = table_files.get(tname)
        if rel is None:
            if (root / f"{tname}.csv").is_file():
                rel = f"{tname}.csv"
            elif table.required and not workbook:
                found.add(f"{yaml_path.name} tables", f"table '{tname}' is missing",
                          f"add {tname}.csv ({table.doc.rstrip('.')}) and list it under 'tables:'")
                continue
            else:
                continue
        csv_path = _inside(root, str(rel), f"{yaml_path.name} tables.{tname}", found)
        if csv_path is None:
            continue
        if not csv_path.is_file():
            found.add(f"{yaml_path.name} tables.{tname}", f"file '{rel}' not found",
                      "create it or fix the file name")
            continue
        files.append(csv_path)
        if csv_path.suffix.lower() in GEO_SUFFIXES:
            df = _read_point_layer(csv_path, tname, f"{yaml_path.name} tables.{tname} ({rel})", found)
        else:
            df = _read_csv(csv_path, found, table)
        if df is not None:
            tables[tname] = df
            origins[tname] = csv_path.name
    if workbook:
        _report_missing_sheets(tables, Path(str(workbook)).name, found)
    layers = _read_layers(root, data.get("layers"), yaml_path.name, files, found)
    found.raise_if_any()
    name = str(data.get("name") or root.name)
    spec = {k: v for k, v in data.items() if k not in ("settings", "tables", "layers")}
    spec.setdefault("name", name)
    return RawInstance(name=name, root=root, path=named, spec=spec, settings=dict(settings),
                       tables=tables, origins=origins, sha256=_hash_files(files, root), layers=layers,
                       inputs=tuple(files))


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
        if not path.is_file():
            found.add(where, f"file '{rel}' not found", "create it or fix the file name")
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


def _read_bare_workbook(path: Path) -> RawInstance:
    found = ProblemCollector()
    sheets = _read_workbook_sheets(path, found)
    found.raise_if_any()
    settings_sheet = sheets.pop("settings", None)
    if settings_sheet is None:
        raise InputError(Problem(path.name, "workbook has no 'settings' sheet",
                                 "add a sheet 'settings' with columns key, value (name, currency, ...)"))
    if not {"key", "value"} <= set(settings_sheet.columns):
        raise InputError(Problem(f"{path.name}[settings]", "needs the columns key and value",
                                 "write one setting per row: key in column A, value in column B"))
    settings = {}
    spec: dict = {}
    for _, row in settings_sheet.iterrows():
        key, value = row["key"], row["value"]
        if not key:
            continue
        if key in ("name", "description"):
            spec[key] = value
        elif value != "":
            settings[key] = value
    sources_sheet = sheets.pop("sources", None)
    if sources_sheet is not None:
        spec["sources"] = [dict(r) for _, r in sources_sheet.iterrows()]
    tables, origins = _sheet_tables(sheets, path.name)
    _report_missing_sheets(tables, path.name, found)
    for sname in sheets:
        if sname not in TABLES:
            found.add(f"{path.name}[{sname}]", "unknown sheet",
                      suggest(sname, TABLES, "sheets are: settings, sources, " + ", ".join(TABLES)))
    found.raise_if_any()
    name = str(spec.get("name") or path.stem)
    spec["name"] = name
    return RawInstance(name=name, root=path.resolve().parent, path=path, spec=spec, settings=settings,
                       tables=tables, origins=origins, sha256=_hash_files([path.resolve()], path.resolve().parent),
                       inputs=(path.resolve(),))


def _sheet_tables(sheets: dict[str, pd.DataFrame], book: str) -> tuple[dict, dict]:
    """The sheets that are tables, and where each came from (``book.xlsx[sites]``)."""
    tables = {name: df for name, df in sheets.items() if name in TABLES}
    return tables, {name: f"{book}[{name}]" for name in tables}


def _report_missing_sheets(tables: dict, book: str, found: ProblemCollector) -> None:
    for tname, table in TABLES.items():
        if table.required and tname not in tables:
            found.add(book, f"sheet '{tname}' is missing", f"add a sheet named {tname} ({table.doc.rstrip('.')})")


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    df = df.fillna("").astype(str)
    df.columns = [str(c).strip() for c in df.columns]
    for col in df.columns:
        df[col] = df[col].str.strip()
    # spreadsheet row numbers: header is row 1
    df.index = pd.RangeIndex(2, 2 + len(df))
    return df


def _read_csv(path: Path, found: ProblemCollector, table: Table | None = None) -> pd.DataFrame | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        found.add(path.name, f"cannot be read ({exc.strerror})", "check the file's permissions")
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        found.add(f"{path.name} row {line}", "is not UTF-8 text",
                  "save it as 'CSV UTF-8 (comma delimited)'")
        return None
    if not text.strip():
        found.add(path.name, "is empty", "write a header row with the column names")
        return None
    header = text.splitlines()[0]
    if "," not in header and any(d in header for d in (";", "\t", "|")):
        delim = next(d for d in (";", "\t", "|") if d in header)
        shown = "tab" if delim == "\t" else f"'{delim}'"
        found.add(path.name, f"columns are separated by {shown}, not commas",
                  "save it as 'CSV UTF-8 (comma delimited)'")
        return None
    rows = _csv_rows(text, path.name, found)
    if rows is None:
        return None
    if table is not None and _title_above_header(path.name, rows, table, found):
        return None
    width = len(rows[0])
    blank = [n for n, name in enumerate(rows[0], start=1) if not name.strip()]
    if blank:
        found.add(f"{path.name} column {blank[0]}", "has no name in the header (a trailing comma?)",
                  "name every column in row 1 or remove the empty one")
        return None
    for n, row in enumerate(rows[1:], start=2):
        if row and len(row) != width and any(cell.strip() for cell in row):
            found.add(f"{path.name} row {n}", f"has {len(row)} fields, the header has {width}",
                      "check for a stray comma or an unquoted comma inside a value")
            return None
    df = pd.DataFrame([r for r in rows[1:] if any(c.strip() for c in r)] or None, columns=rows[0])
    if df.empty:
        df = pd.DataFrame(columns=rows[0])
    dupes = [c for c in df.columns if list(df.columns).count(c) > 1]
    if dupes:
        found.add(path.name, f"column '{dupes[0]}' appears twice in the header", "keep one of them")
        return None
    # row numbers must follow the file even where blank lines were skipped
    keep = [n for n, r in enumerate(rows[1:], start=2) if any(c.strip() for c in r)]
    df = _clean(df)
    df.index = pd.Index(keep, dtype="int64") if keep else pd.RangeIndex(2, 2)
    return df


def _csv_rows(text: str, name: str, found: ProblemCollector) -> list[list[str]] | None:
    """Split CSV text into rows of cells; a quote that is never closed is reported at its row.

    A quote left open swallows every comma and line break after it, so the row it starts in
    would otherwise be reported with the wrong number of fields, or the whole file would become
    one header cell.
    """
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        for row in reader:
            rows.append(row)
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            found.add(f"{name} row {len(rows) + 1}", 'has a quote (") that is never closed', "close it or remove it")
            return None
        # other irregular quoting ('"a"b') is read leniently, as spreadsheet programs do
        rows = list(csv.reader(io.StringIO(text)))
    return rows


#: How far below row 1 a header is looked for when row 1 names no column (title rows).
TITLE_ROWS = 5


def _title_above_header(where: str, rows: list[list[str]], table: Table, found: ProblemCollector) -> bool:
    """Report a title row above the header: row 1 names none of the table's columns, and one of the
    next few rows names mostly columns. Returns whether it was reported."""
    known = {c.lower() for c in table.names}

    def names(row) -> list[str]:
        return [str(c).strip() for c in row if str(c).strip()]

    if not rows or any(c.lower() in known for c in names(rows[0])):
        return False
    for row in rows[1:TITLE_ROWS + 1]:
        cells = names(row)
        hits = sum(c.lower() in known for c in cells)
        if hits and 2 * hits >= len(cells):
            found.add(f"{where} row 1", f"is '{', '.join(names(rows[0]))}', not the column names",
                      "delete title rows above the header, so that row 1 names the columns "
                      f"({', '.join(cells)})")
            return True
    return False


def _read_workbook_sheets(path: Path, found: ProblemCollector) -> dict[str, pd.DataFrame]:
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for a corrupt file
        found.add(path.name, f"cannot be read as an Excel workbook ({type(exc).__name__})",
                  "save it again as .xlsx from Excel or LibreOffice")
        return {}
    out = {}
    for raw_name, df in sheets.items():
        sname = str(raw_name).strip()
        names = [str(c) for c in df.columns]
        table = TABLES.get(sname)
        header = ["" if c.startswith("Unnamed:") else c for c in names]  # pandas' name for an empty cell
        if table is not None and _title_above_header(
                f"{path.name}[{sname}]", [header, *df.astype(str).values.tolist()], table, found):
            continue
        twice = [c for c in names if re.match(r"^(.*)\.\d+$", c) and re.sub(r"\.\d+$", "", c) in names]
        if twice:
            first = re.sub(r"\.\d+$", "", twice[0])
            found.add(f"{path.name}[{sname}]", f"column '{first}' appears twice in the header", "keep one of them")
            continue
        unnamed = [c for c in df.columns if str(c).startswith("Unnamed:")]
        if unnamed and len(df.columns) > 0:
            found.add(f"{path.name}[{sname}]", "has a column without a header (merged or empty cells in row 1)",
                      "give every column a name in row 1 and unmerge header cells")
            continue
        df = _clean(df)
        df = df[(df != "").any(axis=1)] if len(df.columns) else df
        out[sname] = df
    # cells are checked only in sheets whose header was read, so that locations name real columns
    _report_unreadable_cells(path, set(out), found)
    return out


def _report_unreadable_cells(path: Path, sheets: set[str], found: ProblemCollector) -> None:
    """Excel error values (#DIV/0!, #REF!...) and formulas saved without their value.

    Both reach pandas as empty cells, which would send the planner looking for a value they did
    write. A workbook written by a script (openpyxl, many exporters) stores formulas without the
    value Excel computes when it saves the file; the formulas are read from a second pass.
    """
    # the values Excel saved with each formula (data_only), as pandas read them
    import openpyxl  # only workbooks need it
    import openpyxl.utils

    values = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    formulas = None
    for ws in values.worksheets:
        sname = ws.title.strip()
        if sname not in sheets:
            continue
        table = TABLES.get(sname)
        header: list[str] = []
        for r, row in enumerate(ws.iter_rows(), start=1):
            if r == 1:
                header = ["" if c.value is None else str(c.value).strip() for c in row]
                continue
            bad = [(n, c) for n, c in enumerate(row) if c.data_type == "e" or c.value is None]
            if not bad:
                continue
            cells = {h: _cell_text(c.value) for h, c in zip(header, row) if h}
            for n, c in bad:
                if c.data_type == "e":
                    problem, fix = f"is the Excel error {c.value}", "fix the formula in the workbook"
                else:
                    if formulas is None:
                        formulas = _formula_cells(path)
                    formula = formulas.get((ws.title, r, n))
                    if formula is None:
                        continue
                    problem = f"is the formula {formula} with no saved value"
                    fix = ("open the workbook in Excel or LibreOffice and save it, so that every formula's "
                           "value is stored")
                column = header[n] if n < len(header) and header[n] else openpyxl.utils.get_column_letter(n + 1)
                key = f" {key_label(table, cells)}" if table is not None else ""
                found.add(f"{path.name}[{sname}] row {r}{key} column {column}", problem, fix)
    values.close()


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def _formula_cells(path: Path) -> dict[tuple[str, int, int], str]:
    """(sheet, row, column position) -> formula text, for every formula in the workbook."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
    out = {}
    for ws in book.worksheets:
        for r, row in enumerate(ws.iter_rows(), start=1):
            for n, c in enumerate(row):
                if c.data_type == "f":
                    out[ws.title, r, n] = str(c.value)
    book.close()
    return out


def suggest(word: str, options, otherwise: str) -> str:
    """Suggest the nearest of ``options`` to ``word``, or return ``otherwise``."""
    close = difflib.get_close_matches(word, list(options), n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    return otherwise
