"""Geocoding of canonical rows: coordinates for records that give an address but no point.

Three layers behind one interface (`model.Gazetteer.locate(Place) -> Hit | None`), asked in
this order, the first answer winning:

1. gazetteer files a steward downloaded (`files.py`: ONS Postcode Directory, GeoNames postal codes);
2. the embedded default, from data installed packages ship (`embedded.py`: Code-Point Open
   postcodes of Great Britain, GeoNames localities), offline;
3. online geocoders through geopy (`online.py`), opt-in, cached and rate limited.

A source's own coordinates are never replaced. Every point added carries its precision and
the gazetteer it came from (`geocode_precision`, `geocoded_by` columns -> sep:geocodePrecision,
sep:geocodedBy); the catalog describes each gazetteer with its licence and attribution.
"""
from se_pipeline.geocode.apply import GeocodeReport, Geocoder, geocode_frame
from se_pipeline.geocode.config import GeocodingConfig

__all__ = ["GeocodeReport", "Geocoder", "GeocodingConfig", "geocode_frame"]
