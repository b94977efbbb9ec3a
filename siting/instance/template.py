"""``siting init DIR``: a small, complete instance with every table and column explained.

The CSV files are a worked example (two sites, one product); ``instance.yaml`` is written from
the schema, so its comments always describe the format the tool really reads.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import yaml

from siting.errors import InputError, Problem
from siting.instance.schema import TABLES
from siting.instance.settings import Settings


def _wrap(text: str, prefix: str, width: int = 98) -> list[str]:
    words, lines, line = text.split(), [], prefix
    for w in words:
        if len(line) + len(w) + 1 > width and line.strip() != prefix.strip():
            lines.append(line.rstrip())
            line = prefix
        line += w + " "
    lines.append(line.rstrip())
    return lines


def template_yaml(name: str, tables: list[str]) -> str:
    """The commented ``instance.yaml`` of the starter instance."""
    out = [
        "# A siting instance: this file plus one CSV file per table.",
        "# Check it with `siting validate .` and solve it with `siting solve .`.",
        "# Every value can be changed for one run with --set, e.g. --set settings.discount_rate=0.06",
        "# or --set sites.kumamoto.fixed_cost=900 (list them all with `siting params .`).",
        "",
        yaml.safe_dump({"name": name}, default_flow_style=False).strip(),
        "description: >",
        "  Example: a 22/28 nm fab in Kumamoto or Phoenix, with a capex grant in Japan and a 60%",
        "  local-procurement target at Kumamoto. The figures are illustrative, not sourced.",
        "",
        "settings:",
    ]
    # min_suppliers: the starter's wafer input is critical, which means nothing without a minimum
    example = {"currency": "USD", "money_unit": "million", "discount_rate": 0.08, "lifetime_years": 10,
               "local_rule": "country", "min_suppliers": 2}
    for field, info in Settings.model_fields.items():
        out.extend(_wrap(info.description or "", "  # "))
        value = example.get(field)
        if value is None:
            out.append(f"  # {field}: ")
        else:
            out.append(f"  {field}: {value}")
    out += ["", "# Table name -> CSV file. Optional tables may be left out.", "tables:"]
    for tname, table in TABLES.items():
        out.append("")
        out.extend(_wrap(f"{tname}: {table.doc}{'' if table.required else ' (optional)'}", "  # "))
        for col in table.columns:
            bits = [col.kind]
            if col.required:
                bits.append("required")
            if col.unit:
                bits.append(col.unit)
            if col.choices:
                bits.append("one of " + "/".join(col.choices))
            if col.ref:
                bits.append("names a row of " + (col.ref if isinstance(col.ref, str) else " or ".join(col.ref)))
            out.extend(_wrap(f"{col.name} ({', '.join(bits)}): {col.doc}".rstrip(": "), "  #   "))
        if tname in tables:
            out.append(f"  {tname}: {tname}.csv")
        else:
            out.append(f"  # {tname}: {tname}.csv")
    out += [
        "",
        "# Publications the figures come from; rows name them in their 'source' column.",
        "sources:",
        "  - id: example",
        "    title: Illustrative figures for the starter instance",
        "",
        "# Assumptions that have no published source, in plain words.",
        "assumptions:",
        "  - Every figure in this starter instance is illustrative.",
        "",
    ]
    return "\n".join(out)


def write_template(folder: Path, force: bool = False, xlsx: bool = False) -> Path:
    """Write the starter instance into ``folder`` and return it.

    With ``xlsx`` the starter is one workbook, ``folder/NAME.xlsx`` (NAME the folder's name): the
    same instance as the CSV files and ``instance.yaml`` (it is made from them), with each
    column's meaning in a comment on its header cell.
    """
    if folder.exists() and not folder.is_dir():
        raise InputError(Problem(str(folder), "is a file, not a folder", "choose a new folder"))
    if folder.exists() and any(folder.iterdir()) and not force:
        raise InputError(Problem(str(folder), "folder exists and is not empty",
                                 "choose a new folder or pass --force"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        starter = resources.files("siting") / "templates" / "starter"
        names = []
        for item in starter.iterdir():
            if item.name.endswith(".csv"):
                with resources.as_file(item) as src:
                    shutil.copyfile(src, folder / item.name)
                names.append(item.name[:-4])
        (folder / "instance.yaml").write_text(template_yaml(folder.name or "starter", names), encoding="utf-8")
        if xlsx:
            from siting.instance.book import write_instance_workbook
            from siting.instance.read import read_instance

            raw = read_instance(folder)
            for name in [*names, "instance"]:
                (folder / f"{name}.{'yaml' if name == 'instance' else 'csv'}").unlink()
            write_instance_workbook(raw, folder / f"{folder.name or 'starter'}.xlsx")
    except OSError as exc:
        raise InputError(Problem(str(folder), f"cannot write there ({exc.strerror})",
                                 "choose a folder you can write to")) from None
    return folder


BEGIN, END = "<!-- BEGIN GENERATED: python -m siting.instance.template docs/format.md -->", "<!-- END GENERATED -->"


def format_reference() -> str:
    """The table-by-table reference of the format, in Markdown, generated from the schema."""
    out = ["### Settings (`settings:` in instance.yaml)", "",
           "| setting | default | meaning |", "| --- | --- | --- |"]
    for field, info in Settings.model_fields.items():
        out.append(f"| `{field}` | `{info.default}` | {info.description} |")
    for tname, table in TABLES.items():
        need = "required" if table.required else "optional"
        out += ["", f"### `{tname}.csv` ({need})", "", table.doc, "",
                f"Key: {', '.join(table.key)}.", "",
                "| column | type | required | default | unit | rule | meaning |",
                "| --- | --- | --- | --- | --- | --- | --- |"]
        for col in table.columns:
            rule = []
            if col.lo is not None or col.hi is not None:
                lo = "" if col.lo is None else f"{'>' if col.lo_open else '>='} {col.lo:g}"
                hi = "" if col.hi is None else f"<= {col.hi:g}"
                rule.append(" and ".join(x for x in (lo, hi) if x))
            if col.choices:
                rule.append("one of " + ", ".join(col.choices))
            if col.ref:
                refs = col.ref if isinstance(col.ref, str) else " or ".join(col.ref)
                rule.append(f"an id of {refs}" + (" or *" if col.wildcard else ""))
            default = "" if col.default in (None, "") else f"`{col.default}`"
            out.append(f"| `{col.name}` | {col.kind} | {'yes' if col.required else ''} | {default} | "
                       f"{col.unit} | {'; '.join(rule)} | {col.doc} |")
    return "\n".join(out)


def update_format_doc(path: Path) -> None:
    """Rewrite the generated part of ``path`` (between the markers) from the schema."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{format_reference()}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - documentation maintenance
    import sys

    update_format_doc(Path(sys.argv[1]))
