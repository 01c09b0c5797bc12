"""The canonical table: one schema every source maps into (see `schema.CANONICAL_FIELDS`)."""
