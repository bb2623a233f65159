"""OGC API – Features: feature collections served to GIS clients and web maps."""
