"""The Pyomo model: built from derived tables only, one module per constraint family.

The package imports ``pyomo.core`` (the modelling components), not ``pyomo.environ``, which would
also load every solver interface and extension Pyomo has: HiGHS is called through highspy, so
they would only lengthen the start of every command.
"""


def _finalize_scipy_sparse(module, available: bool) -> None:
    if available:
        import scipy.sparse  # noqa: F401  (the part of SciPy that Pyomo's matrix compiler uses)


def _finalize_matplotlib_nothing(module, available: bool) -> None:
    """The charts draw on the Agg canvas without pyplot (:mod:`siting.report.charts`)."""


def _narrow_pyomo_hooks() -> None:
    """Keep Pyomo from importing ``scipy.stats`` (about a second) the first time SciPy is imported,
    and ``matplotlib.pyplot`` and ``matplotlib.pylab`` (about a second) with matplotlib.

    Pyomo registers a hook that, whenever ``scipy`` is imported in a process that has imported
    Pyomo, imports ``scipy.stats``, ``integrate`` and ``spatial`` too. The model needs only
    ``scipy.sparse`` (``LinearStandardFormCompiler`` returns sparse matrices), and SciPy loads any
    other submodule on first use by itself, so the hook is narrowed to ``scipy.sparse``. It must run
    before SciPy is first imported (so modules that need sparse matrices take them from here);
    with a Pyomo whose hook looks different it changes nothing.
    """
    from pyomo.common import dependencies as deps

    finder = getattr(deps, "DeferredImportCallbackFinder", None)
    full = getattr(deps, "_finalize_scipy", None)
    for indicator in getattr(finder, "_callbacks", {}).get("scipy", []):
        if full is not None and getattr(indicator, "_callback", None) is full:
            indicator._callback = _finalize_scipy_sparse
    # the same hook on matplotlib imports pyplot and pylab (NumPy's fft, random and linalg), which
    # the charts do not use
    full = getattr(deps, "_finalize_matplotlib", None)
    for indicator in getattr(finder, "_callbacks", {}).get("matplotlib", []):
        if full is not None and getattr(indicator, "_callback", None) is full:
            indicator._callback = _finalize_matplotlib_nothing


_narrow_pyomo_hooks()

import scipy.sparse as sparse  # noqa: E402, F401  (after the hook is narrowed)
