"""Matcher thresholds, chosen on the labelled real-sample pairs.

Measured with `python -m benchmarks.identity.run` (labelled set
`benchmarks/identity/labelled_pairs.csv`, its sweep of `same`); the figures of the run
these values come from are in `benchmarks/README.md` ("Identity: precision and recall"),
so that a change here is a change against evidence, not a guess.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """Knobs of `match.find_links`.

    * `same` / `uncertain`: minimum link score for decision "same" / for reporting the
      pair as "uncertain" (below: not reported).
    * `name_min`: minimum name similarity (0..100, mean of rapidfuzz token_set_ratio and
      token_sort_ratio on normalised names) for a name+place candidate.
    * `max_km`: coordinates at most this far apart count as "same place".
    * `domain_max_per_source`: a domain used by more records than this in one source is
      an umbrella (network site, shared host) and is not evidence.
    * `block_cap`: blocks with more records than this are skipped for name blocking
      (another block key still catches true pairs); keeps the work ~linear.
    * `same_name` / `max_name_km`: score of `name` evidence, and the distance between
      two records' coordinates (when both have them) beyond which it does not count.
    """

    # Inside the sweep's plateau of best F1: lower lets in the first false positive, higher
    # than `same_name` loses every `name` link.
    same: float = 0.90
    # Pairs in [0.75, 0.90) are published as "uncertain" for steward review (the sweep has
    # no labelled true pair there on the samples, so nothing is lost by the split).
    uncertain: float = 0.75
    name_min: float = 75.0
    max_km: float = 2.0
    domain_max_per_source: int = 3
    block_cap: int = 300
    # `name` evidence (the same informative whole name in one country, unique in one of
    # the two sources): its score, and the distance beyond which coordinates veto it.
    same_name: float = 0.92
    max_name_km: float = 100.0


DEFAULT = Thresholds()
