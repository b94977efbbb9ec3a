"""Results: tables from a solved model, checks against the raw data, files and console."""
