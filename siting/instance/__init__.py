"""Instances: reading, overrides, checks and derived data (pandas only, never Pyomo)."""
