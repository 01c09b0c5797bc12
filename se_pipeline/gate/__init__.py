"""SHACL gate: shapes in `shapes/`, validation and quarantine in `gate.shacl`."""
