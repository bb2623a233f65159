"""Connectors: configured harvesters of external sources, run on a schedule.

A connector fetches a source through the shared HTTP client and maps it into the model:
places as features, measurements as Things, Datastreams and Observations. The framework
records each run, coordinates workers through leases and keeps every value traceable to its
source. Importing this package does no work; see ``base`` for the interface.
"""
