"""Dagster definitions folder (`[tool.dg.project] defs_module`): wiring only, no stage logic."""
