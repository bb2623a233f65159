"""The plain-language bands: WHO UV index scale and the UBA air quality index."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from cityhub.screens.bands import AIR_BANDS, air_band, uv_band, worst_air_band


@pytest.mark.parametrize(
    ("index", "band"),
    [
        (0, "low"),
        (2.4, "low"),
        (2.5, "moderate"),
        (5, "moderate"),
        (6, "high"),
        (7.4, "high"),
        (8, "very_high"),
        (10, "very_high"),
        (10.5, "extreme"),
        (14, "extreme"),
        (-1, "low"),
    ],
)
def test_uv_bands_follow_the_who_scale(index, band):
    assert uv_band(index) == band


@pytest.mark.parametrize(
    ("pollutant", "value", "band"),
    [
        ("no2", 20, "very_good"),
        ("no2", 21, "good"),
        ("no2", 100, "moderate"),
        ("no2", 201, "very_poor"),
        ("pm10", 35, "good"),
        ("pm10", 36, "moderate"),
        ("pm10", 100.4, "poor"),
        ("pm2p5", 10.4, "very_good"),
        ("pm2p5", 26, "poor"),
        ("o3", 240, "poor"),
        ("o3", 241, "very_poor"),
    ],
)
def test_air_bands_follow_the_uba_index(pollutant, value, band):
    assert air_band(pollutant, value) == band


def test_the_air_index_is_the_worst_pollutant():
    assert worst_air_band(["good", "poor", "very_good"]) == "poor"
    assert worst_air_band([]) is None


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_band_has_a_name_and_advice_in_both_languages(language):
    path = resources.files("cityhub").joinpath(f"i18n/screens.{language}.json")
    messages = json.loads(path.read_text(encoding="utf-8"))
    for band in ("low", "moderate", "high", "very_high", "extreme"):
        assert messages[f"screens.uv.band.{band}"]
        assert messages[f"screens.uv.advice.{band}"]
    for band in AIR_BANDS:
        assert messages[f"screens.air.band.{band}"]
        assert messages[f"screens.air.advice.{band}"]
