"""Typed errors of the RDF stage."""


class TermError(ValueError):
    """A value cannot become a valid RDF term (bad IRI, ill-typed literal, bad language tag)."""
