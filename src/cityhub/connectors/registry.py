"""Connector types by short name; third-party ones by ``module:Class`` or entry point.

Built-ins are registered like any other type: the table below names their classes, which
are imported only when used.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from cityhub.connectors.base import Connector, ConnectorError
from cityhub.connectors.config import ConnectorConfig

ENTRY_POINT_GROUP = "cityhub.connectors"

BUILTIN: dict[str, str] = {
    "pegelonline": "cityhub.connectors.pegelonline:Pegelonline",
    "parkapi": "cityhub.connectors.parkapi:ParkApi",
    "sensor-community": "cityhub.connectors.sensor_community:SensorCommunity",
    "geojson": "cityhub.connectors.feature_file:FeatureFile",  # the same, by its old name
    "brightsky": "cityhub.connectors.brightsky:BrightSky",
    "ladesaeulenregister": "cityhub.connectors.ladesaeulen:Ladesaeulenregister",
    "overpass": "cityhub.connectors.overpass:Overpass",
    "sensorthings": "cityhub.connectors.sensorthings_mirror:SensorThingsMirror",
    "file": "cityhub.connectors.feature_file:FeatureFile",
    "gtfs": "cityhub.connectors.gtfs:Gtfs",
}


def connector_class(type_name: str) -> type[Connector]:
    """The class a configuration's ``type`` names: a built-in, an entry point or a path."""
    path = BUILTIN.get(type_name)
    if path is None and ":" not in type_name:
        found = entry_points(group=ENTRY_POINT_GROUP, name=type_name)
        if not found:
            known = ", ".join(sorted(BUILTIN))
            raise ConnectorError(
                f"unknown connector type '{type_name}': use one of {known}, 'module:Class', "
                f"or an entry point of the group '{ENTRY_POINT_GROUP}'"
            )
        loaded = next(iter(found)).load()
        return _checked(type_name, loaded)
    return _checked(type_name, _import(path or type_name))


def build(name: str, config: ConnectorConfig) -> Connector:
    """The connector ``name`` as configured; ``ConnectorError`` says what is wrong."""
    return connector_class(config.type)(name, config)


def _import(path: str) -> object:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        message = f"connector type '{path}': cannot import {module_name}: {exc}"
        raise ConnectorError(message) from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ConnectorError(f"connector type '{path}': {module_name} has no {attribute}") from None


def _checked(type_name: str, loaded: object) -> type[Connector]:
    if not (isinstance(loaded, type) and issubclass(loaded, Connector)):
        raise ConnectorError(
            f"connector type '{type_name}' is not a subclass of cityhub.connectors.base.Connector"
        )
    return loaded
