"""Import readers on files of each encoding and layout, without a database."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from cityhub.features.imports import ImportOptions, ImportSourceError, Rejected, open_reader
from cityhub.features.imports.crs import axis_warning, swapped_points
from cityhub.features.imports.values import typed

FIXTURES = Path(__file__).parent.parent / "fixtures" / "features"


def read(data: bytes, name: str | None = None, **options):
    reader = open_reader(data, ImportOptions(**options), name)
    items = list(reader)
    rows = [item for item in items if not isinstance(item, Rejected)]
    rejected = [item for item in items if isinstance(item, Rejected)]
    return reader, rows, rejected


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def near(position, expected, tolerance=1e-4):
    return all(abs(a - b) < tolerance for a, b in zip(position, expected, strict=True))


def test_a_windows_1252_csv_with_a_title_semicolons_and_decimal_commas():
    reader, rows, rejected = read(fixture("toilets-cp1252.csv"), "toilets-cp1252.csv")
    assert rejected == []
    assert "windows-1252" in reader.description
    assert "delimiter ';'" in reader.description
    assert "decimal comma" in reader.description
    assert "header on line 4" in reader.description
    assert [row.line for row in rows] == [5, 6, 7, 8]
    first = rows[0]
    assert first.properties == {
        "Nr": "WC-1",
        "Bezeichnung": "Toilette Neumarkt",
        "Straße": "Neumarkt 1",
        "Barrierefrei": True,
        "Gebühr": 0.5,
    }
    assert first.geometry == {"type": "Point", "coordinates": [7.0838, 51.1713]}
    assert rows[1].properties["Barrierefrei"] is False
    assert rows[3].properties["Bezeichnung"] == "Toilette Schloss Burg; Parkplatz"


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "windows-1252"])
def test_delimiter_and_encoding_are_detected(delimiter, encoding):
    lines = [
        ["name", "straße", "lat", "lon", "plätze"],
        ["Parkhaus Mühlenplatz", "Mühlenplatz 1", "51.1716", "7.0866", "300"],
        ["Parkhaus Turmstraße", "Turmstraße 5", "51.1701", "7.0801", ""],
    ]
    text = "\n".join(delimiter.join(cells) for cells in lines) + "\n"
    reader, rows, rejected = read(text.encode(encoding), "parken.csv")
    assert rejected == []
    shown = "tab" if delimiter == "\t" else delimiter
    assert f"delimiter '{shown}'" in reader.description
    assert rows[0].properties == {
        "name": "Parkhaus Mühlenplatz",
        "straße": "Mühlenplatz 1",
        "plätze": 300,
    }
    assert rows[1].properties["plätze"] is None
    assert rows[1].geometry["coordinates"] == [7.0801, 51.1701]


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        ("Länge", "Breite"),
        ("longitude", "latitude"),
        ("LNG", "LAT"),
        ("X", "Y"),
        ("geo_x", "geo_y"),
    ],
)
def test_coordinate_columns_are_recognised_by_common_names(lon, lat):
    text = f"Name;{lat};{lon}\nBrunnen;51,17;7,08\n"
    _, rows, _ = read(text.encode(), "brunnen.csv")
    assert rows[0].geometry == {"type": "Point", "coordinates": [7.08, 51.17]}
    assert rows[0].properties == {"Name": "Brunnen"}


def test_explicit_columns_win_and_unknown_ones_are_named():
    text = "ort;a;b\nMarkt;7.08;51.17\n"
    _, rows, _ = read(text.encode(), "x.csv", lon="a", lat="b")
    assert rows[0].geometry["coordinates"] == [7.08, 51.17]
    with pytest.raises(
        ImportSourceError, match=r"--lon: no column 'ost'; the columns are: ort, a, b"
    ):
        read(text.encode(), "x.csv", lon="ost", lat="b")


def test_values_are_typed():
    assert typed("12", False) == 12
    assert typed("0,5", True) == 0.5
    assert typed("1.234,5", True) == 1234.5
    assert typed("1,5", False) == "1,5"
    assert typed("3.25", False) == 3.25
    assert typed("42651", True) == 42651
    assert typed("01234", False) == "01234"  # a postal code keeps its zero
    assert typed("Ja", False) is True
    assert typed("nein", True) is False
    assert typed("false", False) is False
    assert typed("  ", False) is None
    assert typed("01.10.2024", True) == "01.10.2024"


def test_utm_coordinates_are_transformed_with_crs():
    reader, rows, rejected = read(fixture("chargers-utm32.csv"), "c.csv", crs="EPSG:25832")
    assert rejected == []
    assert "in EPSG:25832" in reader.description
    assert near(rows[0].geometry["coordinates"], [7.07122, 51.16714])
    assert rows[0].properties == {
        "id": "L-1",
        "betreiber": "Stadtwerke Solingen",
        "ladepunkte": 2,
        "leistung_kw": 22,
    }


def test_utm_coordinates_without_crs_are_rejected_with_the_likely_crs():
    _, rows, rejected = read(fixture("chargers-utm32.csv"), "c.csv")
    assert rows == []
    assert [r.line for r in rejected] == [2, 3, 4]
    assert "looks like ETRS89 / UTM metres: give --crs EPSG:25832" in rejected[0].reason


def test_gauss_krueger_coordinates_are_transformed_and_recognised():
    text = "name,rechtswert,hochwert\nRathaus,2570000,5670000\n"
    _, rows, _ = read(text.encode(), "gk.csv", crs="EPSG:31466")
    assert near(rows[0].geometry["coordinates"], [7.00006, 51.16070])
    _, _, rejected = read(text.encode(), "gk.csv", crs="EPSG:25832")
    assert "look like Gauß-Krüger zone 2: give --crs EPSG:31466" in rejected[0].reason


def test_swapped_easting_and_northing_are_named():
    text = "name,x,y\nRathaus,5670180.7,365150.2\n"
    _, _, rejected = read(text.encode(), "s.csv", crs="EPSG:25832")
    assert "easting and northing look swapped" in rejected[0].reason


def test_swapped_latitude_and_longitude_are_named():
    _, _, rejected = read(b"name;lat;lon\nA;120;45\n", "s.csv")
    assert "latitude and longitude look swapped" in rejected[0].reason
    warning = axis_warning((51.10, 7.00, 51.20, 7.15))
    assert warning is not None
    assert "swapped" in warning
    assert axis_warning((7.00, 51.10, 7.15, 51.20)) is None


def test_bad_rows_are_rejected_with_line_and_reason():
    _, rows, rejected = read(fixture("bad-rows.csv"), "bad-rows.csv")
    assert [row.properties["name"] for row in rows] == [
        "Spielplatz Walder Straße",
        "Spielplatz vertauscht",
        "Spielplatz Hasseldelle",
    ]
    reasons = {r.line: r.reason for r in rejected}
    assert set(reasons) == {3, 4, 6, 7}
    assert reasons[3] == "no coordinates (columns 'lon' and 'lat' are empty)"
    assert reasons[4] == "column 'lat' is '51.16x', not a number"
    assert "EPSG:25832" in reasons[6]
    assert reasons[7] == "5 values, but the header (line 1) names 4 columns"


def test_wkt_column_with_ewkt_in_another_crs():
    reader, rows, rejected = read(fixture("districts-wkt.csv"), "d.csv")
    assert rejected == []
    assert "WKT column 'wkt'" in reader.description
    assert rows[1].properties == {"bezirk_nr": 2, "name": "Ohligs/Aufderhöhe/Merscheid"}
    assert rows[1].geometry["type"] == "Polygon"
    assert rows[1].geometry["coordinates"][0][0] == [6.98, 51.15]
    assert rows[2].geometry["type"] == "Point"  # SRID=25832;POINT (…)
    assert near(rows[2].geometry["coordinates"], [7.15705, 51.11294])


def test_broken_wkt_is_rejected():
    _, _, rejected = read(b"name|wkt\nA|POLYGON ((7 51, 7.1 51\nB|\n", "w.csv")
    assert [r.line for r in rejected] == [2, 3]
    assert rejected[0].reason.startswith("column 'wkt' is not WKT")
    assert rejected[1].reason == "no geometry (column 'wkt' is empty)"


def test_a_feature_collection_and_its_crs_member():
    reader, rows, _ = read(fixture("toilets.geojson"), "toilets.geojson")
    assert reader.unit == "feature"
    assert [row.source_id for row in rows] == ["wc-1", "wc-2", "wc-3", "wc-4"]
    assert rows[1].properties["oeffnungszeiten"] is None
    _, stops, _ = read(fixture("stops-epsg25832.geojson"), "stops.geojson")
    assert near(stops[0].geometry["coordinates"], [7.07122, 51.16714])


def test_newline_delimited_geojson_reports_the_broken_line():
    reader, rows, rejected = read(fixture("parking.ndjson"), "parking.ndjson")
    assert reader.unit == "line"
    assert [row.line for row in rows] == [1, 2, 4]
    assert [r.line for r in rejected] == [3]
    assert rejected[0].reason.startswith("not JSON")


def test_bad_geojson_features():
    collection = b"""{"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [7.1]}},
        {"type": "Feature", "properties": [], "geometry": null},
        {"type": "Thing"},
        {"type": "Feature", "properties": {"a": 1}, "geometry": null}
    ]}"""
    _, rows, rejected = read(collection, "x.geojson")
    assert [row.line for row in rows] == [4]
    assert [(r.unit, r.line) for r in rejected] == [("feature", 1), ("feature", 2), ("feature", 3)]
    assert "Point" in rejected[0].reason
    with pytest.raises(ImportSourceError, match="not JSON"):
        read(b'{"type": "FeatureCollection", ', "x.geojson")
    with pytest.raises(ImportSourceError, match="type 'Topology'"):
        read(b'{"type": "Topology"}', "x.json")


def _workbook(rows, sheet="Tabelle1") -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "Hinweise"
    book.active.append(["Dieses Blatt enthält keine Daten"])
    data = book.create_sheet(sheet)
    for row in rows:
        data.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_sheet_with_a_title_row():
    data = _workbook(
        [
            ["Spielplätze in Solingen"],
            [],
            ["Name", "Breite", "Länge", "Geräte", "Saniert", "Eröffnet"],
            ["Walder Stadtpark", 51.1702, 7.0512, 12, "ja", date(2019, 5, 1)],
            ["Südpark", "51,1616", "7,0779", 8, "nein", None],
            ["ohne Lage", None, None, 3, "ja", None],
        ],
        sheet="Spielplätze",
    )
    reader, rows, rejected = read(data, "spiel.xlsx", sheet="Spielplätze")
    assert reader.unit == "row"
    assert "sheet 'Spielplätze', header in row 3" in reader.description
    assert rows[0].properties == {
        "Name": "Walder Stadtpark",
        "Geräte": 12,
        "Saniert": True,
        "Eröffnet": "2019-05-01T00:00:00",
    }
    assert rows[0].geometry["coordinates"] == [7.0512, 51.1702]
    assert rows[1].geometry["coordinates"] == [7.0779, 51.1616]
    assert [(r.unit, r.line) for r in rejected] == [("row", 6)]
    with pytest.raises(
        ImportSourceError, match="no sheet 'Daten'; the sheets are: Hinweise, Spielplätze"
    ):
        read(data, "spiel.xlsx", sheet="Daten")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\xd0\xcf\x11\xe0rest", "legacy Excel"),
        (b"PK\x03\x04broken", "not an XLSX workbook"),
        (b"a;b\n1;2\n", "unknown encoding 'klingon'"),
    ],
)
def test_unreadable_sources_say_why(data, message):
    with pytest.raises(ImportSourceError, match=message):
        read(data, "f", encoding="klingon" if b";" in data else None)


def test_a_point_with_swapped_axes_among_others_is_found():
    points = [(7.08, 51.17), (7.01, 51.16), (51.165, 7.04), (7.15, 51.13), (-3.7, 40.4)]
    assert swapped_points(points) == [2]  # Madrid is far away, but not swapped
    assert swapped_points([(51.17, 7.08), (51.16, 7.01), (51.13, 7.15)]) == []


def test_explicit_delimiter_and_encoding_override_detection():
    text = "name,ort;lat;lon\nBank,Markt;51.17;7.08\nBank,Park;51.16;7.07\n".encode("latin-1")
    reader, rows, _ = read(text, "b.csv", delimiter="semicolon", encoding="latin-1")
    assert "latin-1, delimiter ';'" in reader.description
    assert rows[0].properties == {"name,ort": "Bank,Markt"}
    with pytest.raises(ImportSourceError, match="not utf-8: byte 4 cannot be decoded"):
        read("Straße;lat;lon\n".encode("windows-1252"), "s.csv", encoding="utf-8")
