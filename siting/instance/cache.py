"""The typing of tables kept between checks of many variants of one instance (sweeps)."""

from __future__ import annotations

import pandas as pd

from siting.instance.read import RawInstance
from siting.instance.schema import TABLES, Table


class TypingCache:
    """Typed tables of earlier checks, for checking many variants of one instance.

    A sweep checks hundreds of variants that differ from the base instance in a few cells;
    overrides copy only the tables they change, so a table that is the very same object as in an
    earlier check (with the same settings and overrides) is typed once and reused. Only tables
    that typed without a problem are kept; the cross-table checks always run, except the
    reference checks of columns that are unchanged since the last check that found no problem.
    """

    def __init__(self) -> None:
        self._tables: dict[str, tuple] = {}
        self._passed: dict[str, object] = {}
        self._diffs: dict[str, tuple] = {}

    def changes(self, raw: RawInstance) -> dict[str, frozenset[str] | None]:
        """Table name -> the columns whose text differs from the last check that found no
        problem (empty for a table that is the very same object, or absent both times); None
        where the two cannot be compared column by column (other columns or rows, or no such
        check yet)."""
        if not self._passed:
            return {}
        out: dict[str, frozenset[str] | None] = {}
        for tname in TABLES:
            changed = self._changed(tname, self._passed.get(tname), raw.tables.get(tname))
            out[tname] = None if changed is None else frozenset(changed)
        return out

    def passed(self, raw: RawInstance) -> None:
        """Remember the tables of a check that found no problem."""
        self._passed = {t: raw.tables.get(t) for t in TABLES}

    def get(self, tname: str, df, key) -> pd.DataFrame | None:
        hit = self._tables.get(tname)
        if hit is not None and hit[0] is df and hit[1] == key:
            return hit[2].copy(deep=False)  # copy-on-write: changing the copy leaves the cached table alone
        return None

    def put(self, tname: str, df, key, typed: pd.DataFrame) -> None:
        self._tables[tname] = (df, key, typed.copy(deep=False))

    def near(self, tname: str, df, key, table: Table) -> tuple[pd.DataFrame, list[str]] | None:
        """The typed table of an earlier ``df`` that differs from this one only in some non-key
        columns (an override copies the table and changes a cell), and those columns' names; None
        if there is none. Typing just those columns gives the same table as typing all of it."""
        hit = self._tables.get(tname)
        if hit is None or df is None or hit[0] is None or hit[1][:2] != key[:2]:
            return None
        changed = self._changed(tname, hit[0], df)
        if changed is None or any(c in table.key for c in changed) or any(c not in table.names for c in changed):
            return None
        return hit[2].copy(deep=False), changed

    def _changed(self, tname: str, old: pd.DataFrame | None, new: pd.DataFrame | None) -> list[str] | None:
        """Columns of ``new`` whose text differs from ``old``'s (None if the columns or rows
        differ); the last comparison of each table is kept, as the typing and the reference
        checks of one check ask the same question."""
        if old is new:
            return []
        if old is None or new is None:
            return None
        memo = self._diffs.get(tname)
        if memo is not None and memo[0] is old and memo[1] is new:
            return memo[2]
        changed = None
        if list(old.columns) == list(new.columns) and old.index.equals(new.index):
            changed = [c for c in new.columns if not new[c].equals(old[c])]
        self._diffs[tname] = (old, new, changed)
        return changed
