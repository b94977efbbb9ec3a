"""The checked instance: validated settings and typed tables, as every later step receives them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from siting.instance.settings import Settings, Source


@dataclass(frozen=True)
class Instance:
    """A checked instance: validated settings and typed tables.

    Attributes
    ----------
    name, root, path, sha256, overrides
        As in :class:`~siting.instance.read.RawInstance`.
    settings
        Validated settings.
    tables
        Table name -> typed DataFrame with every schema column (defaults filled), indexed by
        spreadsheet row number. Optional tables that are absent are empty.
    origins
        Table name -> file it came from.
    sources, assumptions, description
        Provenance from ``instance.yaml``.
    layers
        Polygon layers in WGS84 (:mod:`siting.instance.geo`); their labels are already in the
        ``region`` and ``hazard_zones`` columns of the point tables.
    """

    name: str
    root: Path
    path: Path
    settings: Settings
    tables: dict[str, pd.DataFrame]
    origins: dict[str, str]
    sha256: str
    overrides: tuple[str, ...]
    sources: tuple[Source, ...]
    assumptions: tuple[str, ...]
    description: str
    layers: dict = field(default_factory=dict)

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]
