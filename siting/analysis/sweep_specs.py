"""The values of a swept parameter: ``--param PATH=SPEC`` read against the instance.

A ``SPEC`` comes in three forms:

* a list: ``0.4,0.5,0.6`` (numbers or words);
* a range ``START:STOP:STEP``, both ends included: ``0:0.5:0.05`` is 11 values;
* a band around the instance's own value, ``-20%:+20%:10%``: five values, 0.8 to 1.2 times it.

Every value is kept as ``--set`` text (:func:`fmt`), so a case is exactly the overrides a
``siting solve --set`` would be given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from siting.errors import InputError, Problem, suggest
from siting.instance.overrides import canonical_path, split_assignment

#: More cases than this is almost certainly a typo in a step.
MAX_CASES = 100_000


def fmt(x: float) -> str:
    """A number as ``--set`` text: 12 significant digits, so 0.1 * 3 is written 0.3."""
    text = f"{x:.12g}"
    return "0" if text == "-0" else text


def as_number(text: str) -> float | None:
    """``text`` as a finite number, or None (a word, empty, NaN or infinite)."""
    try:
        x = float(text)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class Axis:
    """One swept parameter.

    Attributes
    ----------
    path
        The ``--set`` path, e.g. ``instruments.meti-chitose.rate``.
    spec
        The values as given on the command line.
    values
        The values as ``--set`` text, in the order given.
    base
        The instance's own value, as text ("" where the instance leaves it empty).
    """

    path: str
    spec: str
    values: tuple[str, ...]
    base: str

    @property
    def numeric(self) -> bool:
        """Whether every value is a finite number."""
        return all(as_number(v) is not None for v in self.values)

    @property
    def low(self) -> float:
        """The smallest value (numeric axes only)."""
        return min(float(v) for v in self.values)

    @property
    def high(self) -> float:
        """The largest value (numeric axes only)."""
        return max(float(v) for v in self.values)


def _range(where: str, parts: list[str], percent: bool) -> list[float]:
    nums = []
    for part in parts:
        text = part.strip()
        if percent:
            if not text.endswith("%"):
                raise InputError(Problem(where, f"'{part}' is not a percentage",
                                         "write a band with % on every part, e.g. -20%:+20%:10%"))
            text = text[:-1]
        x = as_number(text)
        if x is None:
            raise InputError(Problem(where, f"'{part}' is not a number",
                                     "write START:STOP:STEP, e.g. 0:0.5:0.05, or a band such as -20%:+20%:10%"))
        nums.append(x / 100 if percent else x)
    start, stop, step = nums
    if step <= 0:
        raise InputError(Problem(where, f"step {parts[2]} is not positive", "give a step above zero"))
    if stop < start:
        raise InputError(Problem(where, f"stops ({parts[1]}) below where it starts ({parts[0]})",
                                 "write the smaller value first"))
    count = math.floor((stop - start) / step + 1e-9) + 1
    if count > MAX_CASES:
        raise InputError(Problem(where, f"gives {count:,} values", "choose a larger step"))
    return [start + k * step for k in range(count)]


def parse_axis(text: str, paths: dict[str, str]) -> Axis:
    """Parse one ``--param PATH=SPEC`` against the instance's parameters.

    Parameters
    ----------
    text
        ``PATH=SPEC`` as given on the command line.
    paths
        Every ``--set`` path of the instance and its value as text
        (:func:`siting.instance.overrides.addressable_paths`).

    Returns
    -------
    Axis
        The parameter with its values as ``--set`` text, in the order given.

    Raises
    ------
    InputError
        For no ``=``, an unknown path (with the nearest ones), no values, a malformed or too long
        range, a band around an empty or zero value, an empty or repeated value.
    """
    split = split_assignment(text)
    if split is None:
        raise InputError(Problem(f"--param {text}", "has no '='",
                                 "write PATH=SPEC, e.g. instruments.meti-chitose.rate=0:0.6:0.05"))
    path, spec = canonical_path(split[0]), split[1]  # a key part with . / = is quoted, as `params` prints it
    where = f"--param {path}"
    if path not in paths:
        raise InputError(Problem(where, "no such parameter", suggest(path, paths, "list them with `siting params`")))
    if not spec:
        raise InputError(Problem(where, "has no values after '='",
                                 "give a list (0.4,0.5), a range (0:0.5:0.05) or a band (-20%:+20%:10%)"))
    base = paths[path] if paths[path] not in ("None", "nan") else ""
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 3:
            raise InputError(Problem(where, f"'{spec}' is not START:STOP:STEP",
                                     "write e.g. 0:0.5:0.05, or a band such as -20%:+20%:10%"))
        percent = any(p.strip().endswith("%") for p in parts)
        steps = _range(where, parts, percent)
        if percent:
            b = as_number(base)
            if b is None or b == 0:
                shown = f"'{base}'" if base else "empty"
                raise InputError(Problem(where, f"a band needs a non-zero number to scale, and the instance's "
                                                f"value is {shown}", "give a list or a range instead"))
            values = [fmt(b * (1 + f)) for f in steps]
        else:
            values = [fmt(x) for x in steps]
    else:
        values = [v.strip() for v in spec.split(",")]
        if any(v == "" for v in values):
            raise InputError(Problem(where, f"'{spec}' has an empty value", "separate values by single commas"))
    if len(set(values)) != len(values):
        raise InputError(Problem(where, f"'{spec}' repeats a value", "give each value once"))
    return Axis(path=path, spec=spec, values=tuple(values), base=base)
