"""Plain-language bands of a reading: the WHO UV index scale and the German UBA air index.

Bands are keys (``low``, ``very_good`` …); the screen shows their name and advice from the
message catalogues (``screens.uv.*``, ``screens.air.*``), in the screen's language.
"""

from __future__ import annotations

#: WHO Global Solar UV Index: the band of a rounded index value (upper bounds inclusive).
UV_BANDS = ((2, "low"), (5, "moderate"), (7, "high"), (10, "very_high"))
UV_TOP = "extreme"

#: Umweltbundesamt Luftqualitätsindex: upper bounds (µg/m³, inclusive) of the first four of
#: the five bands; NO2 and O3 as hourly means, PM10 and PM2.5 as means over 24 hours.
AIR_BANDS = ("very_good", "good", "moderate", "poor", "very_poor")
AIR_LIMITS = {
    "no2": (20, 40, 100, 200),
    "pm10": (20, 35, 50, 100),
    "pm2p5": (10, 20, 25, 50),
    "o3": (60, 120, 180, 240),
}


def uv_band(index: float) -> str:
    """The WHO band of a UV index (rounded to a whole number, as the index is published)."""
    rounded = int(index + 0.5) if index >= 0 else 0
    for limit, band in UV_BANDS:
        if rounded <= limit:
            return band
    return UV_TOP


def air_band(pollutant: str, concentration: float) -> str:
    """The UBA band of one pollutant's concentration (rounded to a whole µg/m³)."""
    rounded = int(concentration + 0.5) if concentration >= 0 else 0
    for limit, band in zip(AIR_LIMITS[pollutant], AIR_BANDS, strict=False):
        if rounded <= limit:
            return band
    return AIR_BANDS[-1]


def worst_air_band(bands: list[str]) -> str | None:
    """The index of several pollutants is the band of the worst of them."""
    if not bands:
        return None
    return max(bands, key=AIR_BANDS.index)
