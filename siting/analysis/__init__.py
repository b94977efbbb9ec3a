"""Analyses built on the single-case pipeline."""
