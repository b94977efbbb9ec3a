"""The Pyomo model: built from derived tables only, one module per constraint family."""
