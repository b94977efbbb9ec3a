"""siting: where to build semiconductor fabs and which suppliers to buy from.

A mixed-integer siting and sourcing model built in Pyomo and solved with HiGHS. The pipeline is
read -> override -> check -> derive -> build -> solve -> extract -> write; see :mod:`siting.run`.
"""

__version__ = "0.1.0"
