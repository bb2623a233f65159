"""LoRaWAN ingestion: uplinks from The Things Stack and ChirpStack become Observations."""
