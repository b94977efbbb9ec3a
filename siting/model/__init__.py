"""The Pyomo model: built from derived tables only, one module per constraint family.

The package imports ``pyomo.core`` (the modelling components), not ``pyomo.environ``, which would
also load every solver interface and extension Pyomo has: HiGHS is called through highspy, so
they would only lengthen the start of every command.
"""


def _finalize_scipy_sparse(module, available: bool) -> None:
    if available:
        import scipy.sparse  # noqa: F401  (the part of SciPy that Pyomo's matrix compiler uses)


def _finalize_matplotlib_pyplot(module, available: bool) -> None:
    if available:
        import matplotlib.pyplot  # noqa: F401  (what the charts use; Pyomo's hook adds pylab)


def _narrow_pyomo_hooks() -> None:
    """Keep Pyomo from importing ``scipy.stats`` (about a second) the first time SciPy is imported,
    and ``matplotlib.pylab`` with matplotlib.

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
    # the same hook on matplotlib imports matplotlib.pylab (NumPy's fft, random and linalg) too
    full = getattr(deps, "_finalize_matplotlib", None)
    for indicator in getattr(finder, "_callbacks", {}).get("matplotlib", []):
        if full is not None and getattr(indicator, "_callback", None) is full:
            indicator._callback = _finalize_matplotlib_pyplot


_narrow_pyomo_hooks()

import scipy.sparse as sparse  # noqa: E402, F401  (after the hook is narrowed)
