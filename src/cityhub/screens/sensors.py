"""Tiles of Datastream readings: weather now and today, UV index, water level, air quality."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cityhub.screens import bands, readings
from cityhub.screens.context import TileContext, instant, stale_after, tile_data

WEATHER_STREAMS = ("temperature", "humidity", "wind", "precipitation")
AIR_STREAMS = ("pm10", "pm2p5", "no2", "o3")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _reading(context: TileContext, datastream: int | None) -> dict[str, Any] | None:
    reading = context.readings.get(datastream) if datastream else None
    if reading is None:
        return None
    return {"value": reading.value, "unit": reading.unit, "time": instant(reading.time)}


def _timing(
    context: TileContext, options: dict[str, Any], ids: list[int | None]
) -> tuple[datetime | None, timedelta | None]:
    """The time of the tile's oldest value and how long after it the tile turns stale."""
    shown = [context.readings[i] for i in ids if i in context.readings]
    oldest = min((reading.time for reading in shown), default=None)
    return oldest, stale_after(options, shown)


def weather(context: TileContext, options: dict[str, Any]) -> dict[str, Any]:
    """Now: the latest of each stream. Today: lowest and highest temperature, rain summed."""
    ids = [options[name] for name in WEATHER_STREAMS]
    now = {name: _reading(context, options[name]) for name in WEATHER_STREAMS}
    today: dict[str, Any] = {}
    if now["temperature"] is not None:
        low, high, _ = readings.extremes(
            context.connection, options["temperature"], context.today_start()
        )
        today["low"], today["high"] = low, high
    if now["precipitation"] is not None:
        _, _, total = readings.extremes(
            context.connection, options["precipitation"], context.today_start()
        )
        today["precipitation"] = total
    return tile_data(options, *_timing(context, options, ids), now=now, today=today)


def uv(context: TileContext, options: dict[str, Any]) -> dict[str, Any]:
    """The UV index now with its WHO band (advice comes from the catalogue), and today's
    highest."""
    now = _reading(context, options["datastream"])
    value = _number(now["value"]) if now else None
    high = None
    if value is not None:
        _, high, _ = readings.extremes(
            context.connection, options["datastream"], context.today_start()
        )
    return tile_data(
        options,
        *_timing(context, options, [options["datastream"]]),
        value=value,
        band=None if value is None else bands.uv_band(value),
        today_high=high,
        today_band=None if high is None else bands.uv_band(high),
    )


def water(context: TileContext, options: dict[str, Any]) -> dict[str, Any]:
    """The water level now and its trend: the change over ``trend_minutes`` before the
    latest reading, steady within ``steady_band``; above ``warn_level`` a warning."""
    stream = options["datastream"]
    now = _reading(context, stream)
    value = _number(now["value"]) if now else None
    trend = change = None
    if value is not None:
        latest_time = context.readings[stream].time
        before = readings.value_at(
            context.connection, stream, latest_time - timedelta(minutes=options["trend_minutes"])
        )
        if before is not None:
            change = value - before
            band = options["steady_band"]
            trend = "rising" if change > band else "falling" if change < -band else "steady"
    warn = options["warn_level"]
    return tile_data(
        options,
        *_timing(context, options, [stream]),
        value=value,
        unit=now["unit"] if now else None,
        trend=trend,
        change=change,
        trend_minutes=options["trend_minutes"],
        warning=warn is not None and value is not None and value >= warn,
        warn_level=warn,
    )


def air(context: TileContext, options: dict[str, Any]) -> dict[str, Any]:
    """Each pollutant's concentration and UBA band (PM as the mean of the 24 hours before its
    latest reading, NO2 and O3 as the latest hourly value); the index is the worst band."""
    pollutants: dict[str, Any] = {}
    for name in AIR_STREAMS:
        stream = options[name]
        now = _reading(context, stream)
        value = _number(now["value"]) if now else None
        if value is None:
            continue
        if name in ("pm10", "pm2p5"):
            latest_time = context.readings[stream].time
            averaged = readings.mean(
                context.connection, stream, latest_time - timedelta(hours=24), latest_time
            )
            value = averaged if averaged is not None else value
        pollutants[name] = {
            "value": round(value, 1),
            "unit": now["unit"] if now else None,
            "band": bands.air_band(name, value),
        }
    index = bands.worst_air_band([p["band"] for p in pollutants.values()])
    ids = [options[name] for name in AIR_STREAMS]
    return tile_data(options, *_timing(context, options, ids), index=index, pollutants=pollutants)
