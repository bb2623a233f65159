"""Bulk downloads of every public collection and Datastream: CSV, GeoJSON and Parquet,
streamed, with validators for conditional requests (docs/downloads.md)."""
