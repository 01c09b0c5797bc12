"""Canonical rows -> RDF. All term text goes through `terms`."""
