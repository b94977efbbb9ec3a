"""Error types and the one-line message format.

Every problem a planner can cause is reported as one line::

    location | problem; fix

for example ``offers.csv row 12 (supplier=sumco, input=wafer) | price_per_unit is -3; prices must be >= 0``.
Checks collect every problem first and raise once with the whole list, so a planner fixes an
instance in one pass instead of one error at a time.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass

#: Scripts whose letters look like Latin ones (Cyrillic о, Greek ο, fullwidth ｏ).
_LOOKALIKE = ("CYRILLIC", "GREEK", "ARMENIAN", "FULLWIDTH", "MATHEMATICAL", "CHEROKEE")


def visible(text: str, ascii_only: bool = False) -> str:
    """``text`` with invisible and look-alike characters shown as ``<U+XXXX>``.

    A zero-width space, a non-breaking space or a Cyrillic ``о`` inside an id prints exactly like
    the id the planner meant, so a message quoting it would make no sense; shown by code point,
    the difference is plain: ``kumam<U+043E>to``. Letters of other scripts in text with no Latin
    letters (``熊本``, ``Τόκιο``) are shown as they are, unless ``ascii_only`` (ids, which are
    ASCII by rule, so that any other character is the problem).
    """
    if text.isascii() and text.isprintable():
        return text
    latin = any(c.isascii() and c.isalpha() for c in text)
    out = []
    for c in text:
        if c.isascii() and (c.isprintable() or c == " "):
            out.append(c)
            continue
        cat = unicodedata.category(c)
        odd = ascii_only or cat[0] in "CZM" or (latin and any(s in unicodedata.name(c, "") for s in _LOOKALIKE))
        out.append(f"<U+{ord(c):04X}>" if odd else c)
    return "".join(out)


@dataclass(frozen=True)
class Problem:
    """One problem found in an instance or a command line.

    Parameters
    ----------
    location
        Where the problem is: file, table, row and column, or a command-line flag.
    problem
        What is wrong, with the offending value.
    fix
        What the planner should do about it.
    """

    location: str
    problem: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.location} | {self.problem}"
        return f"{text}; {self.fix}" if self.fix else text


def suggest(word: str, options, otherwise: str) -> str:
    """The fix of a message about an unknown name: the nearest of ``options`` to ``word``.

    Parameters
    ----------
    word
        The name the planner wrote.
    options
        The names that exist.
    otherwise
        The fix to give when no option is close.

    Returns
    -------
    str
        ``did you mean 'a' or 'b'?`` naming up to three close options, else ``otherwise``.
    """
    close = difflib.get_close_matches(word, list(options), n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    return otherwise


class SitingError(Exception):
    """Base class of the errors the CLI turns into exit codes."""

    exit_code = 1


def _one_per_line(problems: list[Problem] | Problem) -> list[Problem]:
    return [problems] if isinstance(problems, Problem) else list(problems)


class InputError(SitingError):
    """The instance or the command line is wrong (exit code 2).

    Parameters
    ----------
    problems
        Every problem found; the message lists them one per line.
    """

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem):
        self.problems: list[Problem] = _one_per_line(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SolverError(SitingError):
    """HiGHS (or the decomposition around it) failed in a way that is not the planner's fault (exit code 1).

    Parameters
    ----------
    problem
        What failed, in the one message form.
    """

    exit_code = 1

    def __init__(self, problem: Problem):
        self.problems: list[Problem] = [problem]
        super().__init__(str(problem))


class NoPlan(SitingError):
    """A solve an analysis needs found no plan (exit code 3).

    Parameters
    ----------
    problem
        Which solve, how it ended, and what to do, in the one message form.
    """

    exit_code = 3

    def __init__(self, problem: Problem):
        self.problems: list[Problem] = [problem]
        super().__init__(str(problem))


class ProblemCollector:
    """Collects problems and raises them together.

    Examples
    --------
    >>> found = ProblemCollector()
    >>> found.add("sites.csv row 3 (id=x)", "lat is 120", "latitude must be in [-90, 90]")
    >>> found.raise_if_any()
    Traceback (most recent call last):
    ...
    siting.errors.InputError: sites.csv row 3 (id=x) | lat is 120; latitude must be in [-90, 90]
    """

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, location: str, problem: str, fix: str = "") -> None:
        """Record one problem."""
        self.problems.append(Problem(location, problem, fix))

    def extend(self, problems: list[Problem]) -> None:
        """Record several problems."""
        self.problems.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self) -> None:
        """Raise an :class:`InputError` listing every problem recorded, if any."""
        if self.problems:
            raise InputError(self.problems)
