"""Choosing among the places a gazetteer has under one name, without guessing.

`Newport` is a city in Wales, a town on the Isle of Wight and one in Shropshire: a record
saying only "Newport, GB" cannot be placed honestly. A candidate is taken when it is the
only one, when every other is close to it (the same place listed twice), or when it is so
much larger than the rest that the name almost always means it.
"""
from __future__ import annotations

import math

#: Candidates closer than this to the chosen one are the same place.
SAME_PLACE_KM = 25.0
#: The largest candidate wins outright when it is this many times the next one.
DOMINANT_RATIO = 20


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def pick(candidates: list[tuple[float, float, int]]) -> tuple[float, float] | None:
    """`candidates`: (lat, lon, weight), heaviest first. The point, or None when ambiguous."""
    if not candidates:
        return None
    lat, lon, weight = candidates[0]
    far = [c for c in candidates[1:] if distance_km(lat, lon, c[0], c[1]) > SAME_PLACE_KM]
    if not far or weight >= DOMINANT_RATIO * max(1, far[0][2]):
        return lat, lon
    return None
