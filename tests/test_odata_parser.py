from datetime import UTC, date, datetime, time, timedelta

import pytest

from cityhub.errors import BadRequest, QuerySyntaxError
from cityhub.sensorthings.odata import (
    FUNCTIONS,
    BinaryOp,
    Call,
    GeoLiteral,
    Literal,
    Path,
    UnaryOp,
    parse_expression,
)
from cityhub.timeutil import TimeValue


def p(*segments):
    return Path(tuple(segments))


def lit(value):
    return Literal(value)


def syntax_error(text):
    with pytest.raises(QuerySyntaxError) as info:
        parse_expression(text)
    return info.value


# --- literals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("null", None),
        ("true", True),
        ("false", False),
        ("42", 42),
        ("0", 0),
        ("3.25", 3.25),
        ("1.5e3", 1500.0),
        ("2E-2", 0.02),
        ("-7", -7),
        ("-0.5", -0.5),
        ("'hello'", "hello"),
        ("''", ""),
        ("'it''s'", "it's"),
        ("''''", "'"),
        ("'a eq b (x)'", "a eq b (x)"),
        ("'Grüße'", "Grüße"),
    ],
)
def test_scalar_literals(text, value):
    node = parse_expression(text)
    assert isinstance(node, Literal)
    assert node.value == value
    assert type(node.value) is type(value)


def test_integer_and_float_types_differ():
    assert isinstance(parse_expression("1").value, int)
    assert isinstance(parse_expression("1.0").value, float)
    assert isinstance(parse_expression("1e2").value, float)


def test_datetime_literal_utc():
    node = parse_expression("2024-01-01T00:00:00Z")
    assert node == lit(datetime(2024, 1, 1, tzinfo=UTC))
    assert node.value.tzinfo is UTC


def test_datetime_literal_with_offset_is_normalised():
    node = parse_expression("2024-01-01T01:30:00.25+01:00")
    assert node.value == datetime(2024, 1, 1, 0, 30, 0, 250000, tzinfo=UTC)
    assert node.value.utcoffset() == timedelta(0)


def test_interval_literal():
    node = parse_expression("2024-01-01T00:00:00Z/2024-01-02T00:00:00Z")
    assert node == lit(
        TimeValue(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC))
    )


def test_interval_literal_with_duration():
    node = parse_expression("2024-01-01T00:00:00Z/PT6H")
    assert node.value == TimeValue(
        datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, 6, tzinfo=UTC)
    )


def test_date_literal():
    node = parse_expression("2024-02-29")
    assert node == lit(date(2024, 2, 29))
    assert not isinstance(node.value, datetime)


def test_duration_literal():
    assert parse_expression("duration'P1DT2H'") == lit(timedelta(days=1, hours=2))
    assert parse_expression("duration'-PT30M'") == lit(timedelta(minutes=-30))


def test_geography_point_literal_is_geojson():
    node = parse_expression("geography'POINT(7.08 51.17)'")
    assert node == lit(GeoLiteral({"type": "Point", "coordinates": [7.08, 51.17]}))
    assert node.value.kind == "geography"


def test_geometry_polygon_literal_uses_lists():
    node = parse_expression("geometry'POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))'")
    geo = node.value
    assert isinstance(geo, GeoLiteral)
    assert geo.kind == "geometry"
    assert geo.geojson["type"] == "Polygon"
    ring = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    assert geo.geojson["coordinates"] == [ring]
    assert isinstance(geo.geojson["coordinates"][0][0], list)


def test_geography_literal_srid_prefix_and_case():
    node = parse_expression("GEOGRAPHY'SRID=4326;LINESTRING(0 0, 1 1)'")
    assert node.value == GeoLiteral({"type": "LineString", "coordinates": [[0.0, 0.0], [1.0, 1.0]]})


def test_geography_literal_invalid_wkt():
    error = syntax_error("st_within(location, geography'POINT(1')")
    assert error.position == 20
    assert "invalid WKT" in error.message


def test_geography_literal_empty_geometry():
    error = syntax_error("geography'POINT EMPTY'")
    assert "empty geometry" in error.message


def test_geography_literal_invalid_geometry():
    error = syntax_error("st_within(location, geography'POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))')")
    assert error.position == 20
    assert "invalid geometry" in error.message
    assert "Self-intersection" in error.message


def test_time_of_day_literals():
    assert parse_expression("12:30") == lit(time(12, 30))
    assert parse_expression("12:30:15") == lit(time(12, 30, 15))
    assert parse_expression("12:30:15.1234567") == lit(time(12, 30, 15, 123456))


@pytest.mark.parametrize("text", ["x eq 24:00", "x eq 12:60:00", "x eq 12:30:15.x"])
def test_invalid_time_of_day_literal(text):
    error = syntax_error(text)
    assert error.position == 5


def test_unknown_typed_literal():
    error = syntax_error("x eq binary'AAAA'")
    assert error.position == 5
    assert "unknown literal type 'binary'" in error.message


def test_operator_directly_followed_by_string():
    assert parse_expression("name eq'x'") == BinaryOp("eq", p("name"), lit("x"))


# --- paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("name", ("name",)),
        ("id", ("id",)),
        ("@iot.id", ("@iot.id",)),
        ("Datastream/@iot.id", ("Datastream", "@iot.id")),
        ("Datastream/Thing/name", ("Datastream", "Thing", "name")),
        ("properties/level", ("properties", "level")),
        ("properties/a/b", ("properties", "a", "b")),
        ("properties/list[2]", ("properties", "list", 2)),
        ("properties/m[0][1]/x", ("properties", "m", 0, 1, "x")),
        ("result[0]", ("result", 0)),
        ("properties/Größe", ("properties", "Größe")),
        ("properties/and", ("properties", "and")),
        ("properties/null", ("properties", "null")),
        ("unitOfMeasurement/symbol", ("unitOfMeasurement", "symbol")),
    ],
)
def test_paths(text, segments):
    assert parse_expression(text) == Path(segments)


def test_path_segments_keep_case():
    assert parse_expression("Properties/Level").segments == ("Properties", "Level")


def test_path_errors():
    assert syntax_error("Datastream/").message.startswith("unexpected end of expression")
    error = syntax_error("Datastream/'x'")
    assert error.position == 11
    assert "expected a property name" in error.message
    assert syntax_error("list[x]").position == 5
    assert syntax_error("list[1.5]").position == 5
    assert syntax_error("list[1").position == 6


# --- operators and precedence ---------------------------------------------------------------


@pytest.mark.parametrize("op", ["eq", "ne", "gt", "ge", "lt", "le", "and", "or"])
def test_each_logical_and_comparison_operator(op):
    assert parse_expression(f"a {op} b") == BinaryOp(op, p("a"), p("b"))


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "mod"])
def test_each_arithmetic_operator(op):
    assert parse_expression(f"a {op} 2") == BinaryOp(op, p("a"), lit(2))


def test_and_binds_tighter_than_or():
    assert parse_expression("a or b and c") == BinaryOp(
        "or", p("a"), BinaryOp("and", p("b"), p("c"))
    )
    assert parse_expression("a and b or c") == BinaryOp(
        "or", BinaryOp("and", p("a"), p("b")), p("c")
    )


def test_comparison_binds_tighter_than_and():
    assert parse_expression("a eq 1 and b gt 2") == BinaryOp(
        "and", BinaryOp("eq", p("a"), lit(1)), BinaryOp("gt", p("b"), lit(2))
    )


def test_relational_binds_tighter_than_equality():
    assert parse_expression("a gt b eq true") == BinaryOp(
        "eq", BinaryOp("gt", p("a"), p("b")), lit(True)
    )
    assert parse_expression("true eq a lt b") == BinaryOp(
        "eq", lit(True), BinaryOp("lt", p("a"), p("b"))
    )


def test_multiplicative_binds_tighter_than_additive():
    assert parse_expression("a add b mul c") == BinaryOp(
        "add", p("a"), BinaryOp("mul", p("b"), p("c"))
    )
    assert parse_expression("a mod 2 sub b div 3") == BinaryOp(
        "sub", BinaryOp("mod", p("a"), lit(2)), BinaryOp("div", p("b"), lit(3))
    )


def test_additive_binds_tighter_than_comparison():
    assert parse_expression("a add 1 gt b sub 2") == BinaryOp(
        "gt", BinaryOp("add", p("a"), lit(1)), BinaryOp("sub", p("b"), lit(2))
    )


def test_operators_are_left_associative():
    assert parse_expression("a sub b sub c") == BinaryOp(
        "sub", BinaryOp("sub", p("a"), p("b")), p("c")
    )
    assert parse_expression("a or b or c") == BinaryOp("or", BinaryOp("or", p("a"), p("b")), p("c"))


def test_parentheses_override_precedence():
    assert parse_expression("(a or b) and c") == BinaryOp(
        "and", BinaryOp("or", p("a"), p("b")), p("c")
    )
    assert parse_expression("(a add b) mul c") == BinaryOp(
        "mul", BinaryOp("add", p("a"), p("b")), p("c")
    )
    assert parse_expression("((((a))))") == p("a")


def test_not_negates_the_following_comparison_but_not_and_or():
    assert parse_expression("not a") == UnaryOp("not", p("a"))
    assert parse_expression("not a eq 1") == UnaryOp("not", BinaryOp("eq", p("a"), lit(1)))
    assert parse_expression("not a eq 1 or b") == BinaryOp(
        "or", UnaryOp("not", BinaryOp("eq", p("a"), lit(1))), p("b")
    )
    assert parse_expression("not a and b") == BinaryOp("and", UnaryOp("not", p("a")), p("b"))
    assert parse_expression("not (a eq 1)") == UnaryOp("not", BinaryOp("eq", p("a"), lit(1)))
    assert parse_expression("not not a") == UnaryOp("not", UnaryOp("not", p("a")))


def test_negation():
    assert parse_expression("-a") == UnaryOp("-", p("a"))
    assert parse_expression("-a mul b") == BinaryOp("mul", UnaryOp("-", p("a")), p("b"))
    assert parse_expression("-(a add 1)") == UnaryOp("-", BinaryOp("add", p("a"), lit(1)))
    assert parse_expression("result gt -1.5") == BinaryOp("gt", p("result"), lit(-1.5))
    assert parse_expression("- 3") == lit(-3)
    assert parse_expression("--3") == lit(3)


def test_whitespace_insensitive():
    compact = parse_expression("(a eq 1)and(b eq 'x')")
    spaced = parse_expression("  ( a  eq\t1 )\n and ( b eq 'x' )  ")
    assert compact == spaced
    assert compact == BinaryOp(
        "and", BinaryOp("eq", p("a"), lit(1)), BinaryOp("eq", p("b"), lit("x"))
    )


def test_comparison_with_datetime_and_paths():
    node = parse_expression("Datastream/Thing/name eq 'X' and phenomenonTime ge 2024-01-01T00:00Z")
    assert node == BinaryOp(
        "and",
        BinaryOp("eq", p("Datastream", "Thing", "name"), lit("X")),
        BinaryOp("ge", p("phenomenonTime"), lit(datetime(2024, 1, 1, tzinfo=UTC))),
    )


# --- functions ------------------------------------------------------------------------------


def test_call():
    node = parse_expression("substringof('abc', name)")
    assert node == Call("substringof", (lit("abc"), p("name")))


def test_call_name_is_lowercased():
    assert parse_expression("ToLower(name)") == Call("tolower", (p("name"),))
    assert parse_expression("Geo.Distance(a, b)").name == "geo.distance"


def test_nested_calls_and_comparison():
    node = parse_expression("length(trim(concat(name, 'x'))) gt 3")
    assert node == BinaryOp(
        "gt",
        Call("length", (Call("trim", (Call("concat", (p("name"), lit("x"))),)),)),
        lit(3),
    )


def test_geo_call_with_literal():
    node = parse_expression("geo.intersects(location, geography'POINT(1 2)')")
    point = GeoLiteral({"type": "Point", "coordinates": [1.0, 2.0]})
    assert node == Call("geo.intersects", (p("location"), lit(point)))


def test_call_with_space_before_parenthesis():
    assert parse_expression("year (phenomenonTime)") == Call("year", (p("phenomenonTime"),))


def test_call_arguments_are_full_expressions():
    node = parse_expression("round(result mul 2 add 1)")
    assert node == Call("round", (BinaryOp("add", BinaryOp("mul", p("result"), lit(2)), lit(1)),))


def test_function_table_is_complete():
    expected = {
        "substringof", "endswith", "startswith", "length", "indexof", "substring", "tolower",
        "toupper", "trim", "concat", "year", "month", "day", "hour", "minute", "second",
        "fractionalseconds", "date", "time", "totaloffsetminutes", "now", "mindatetime",
        "maxdatetime", "round", "floor", "ceiling", "geo.distance", "geo.length",
        "geo.intersects", "st_equals", "st_disjoint", "st_touches", "st_within", "st_overlaps",
        "st_crosses", "st_intersects", "st_contains", "st_relate",
        "cityhub.feature",  # the hub's own: a feature of a collection as a geometry
    }  # fmt: skip
    assert set(FUNCTIONS) == expected
    assert FUNCTIONS["substring"] == (2, 3)
    assert FUNCTIONS["now"] == (0, 0)
    assert FUNCTIONS["st_relate"] == (3, 3)


def _call_text(name, count):
    return f"{name}({', '.join(f'a{i}' for i in range(count))})"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_accepts_its_arity(name):
    low, high = FUNCTIONS[name]
    for count in range(low, high + 1):
        node = parse_expression(_call_text(name, count))
        assert node == Call(name, tuple(p(f"a{i}") for i in range(count)))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_rejects_wrong_arity(name):
    low, high = FUNCTIONS[name]
    wrong = [count for count in (low - 1, high + 1) if count >= 0]
    for count in wrong:
        text = "x eq " + _call_text(name, count)
        error = syntax_error(text)
        assert error.position == 5
        assert f"function '{name}' takes" in error.message
        assert f"got {count}" in error.message


def test_arity_message_for_range():
    assert "takes 2 to 3 arguments, got 1" in syntax_error("substring(name)").message
    assert "takes 0 arguments, got 1" in syntax_error("now(1)").message
    assert "takes 1 argument, got 2" in syntax_error("year(a, b)").message


def test_unknown_function():
    error = syntax_error("name eq foo(1)")
    assert error.position == 8
    assert "unknown function 'foo'" in error.message


def test_unknown_dotted_function():
    error = syntax_error("geo.area(location) gt 1")
    assert error.position == 0
    assert "unknown function 'geo.area'" in error.message


def test_call_errors():
    error = syntax_error("year(a b)")
    assert error.position == 7
    assert "expected ',' or ')'" in error.message
    assert syntax_error("concat(a,)").position == 9
    assert syntax_error("concat(,a)").position == 7
    error = syntax_error("now(")
    assert error.position == 4
    assert "unexpected end of expression" in error.message


# --- errors ---------------------------------------------------------------------------------


def test_error_is_bad_request():
    assert isinstance(syntax_error("a eq"), BadRequest)


def test_empty_expression():
    assert "empty expression" in syntax_error("").message
    assert "empty expression" in syntax_error("   ").message


def test_unexpected_end():
    error = syntax_error("a eq")
    assert error.position == 4
    assert "unexpected end of expression" in error.message
    assert syntax_error("a and not").position == 9


def test_missing_closing_parenthesis():
    error = syntax_error("(a eq 1")
    assert error.position == 7
    assert "expected ')'" in error.message


def test_unbalanced_closing_parenthesis():
    error = syntax_error("a eq 1)")
    assert error.position == 6
    assert "unexpected ')'" in error.message


def test_unterminated_string():
    error = syntax_error("name eq 'abc")
    assert error.position == 8
    assert "unterminated string" in error.message
    assert syntax_error("name eq 'it''s").position == 8


def test_unterminated_typed_literal():
    error = syntax_error("x eq geography'POINT(1 2)")
    assert error.position == 14
    assert "unterminated string" in error.message


def test_missing_operator_between_operands():
    error = syntax_error("a b")
    assert error.position == 2
    assert "unexpected 'b'" in error.message


def test_uppercase_operator_has_hint():
    error = syntax_error("a eq 1 AND b eq 2")
    assert error.position == 7
    assert "use 'and'" in error.message
    assert "use 'eq'" in syntax_error("a EQ 1").message


def test_operator_without_left_operand():
    error = syntax_error("eq 1")
    assert error.position == 0
    assert "missing operand before 'eq'" in error.message


def test_minus_is_not_subtraction():
    error = syntax_error("a - 1")
    assert error.position == 2
    assert "use 'sub'" in error.message


def test_datetime_without_offset():
    error = syntax_error("phenomenonTime gt 2024-01-01T00:00:00")
    assert error.position == 18
    assert "time zone offset required" in error.message


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("x eq 2024-13-01T00:00:00Z", 5),
        ("x eq 2024-01-01T", 5),
        ("x eq 2024-01-02T00:00:00Z/2024-01-01T00:00:00Z", 5),
        ("x eq 2024-02-30", 5),
        ("x eq duration'P1Y'", 5),
        ("x eq 12abc", 5),
        ("x eq 1.", 5),
        ("x eq #", 5),
        ("x eq 1 ;", 7),
    ],
)
def test_error_positions(text, position):
    assert syntax_error(text).position == position


def test_error_message_shows_pointer():
    error = syntax_error("a eq")
    assert error.message.endswith("a eq\n    ^")


# --- slices and context ---------------------------------------------------------------------


def test_slice_positions_refer_to_whole_text():
    text = "$filter=name eq 'x';$top=1"
    node = parse_expression(text, start=8, end=19)
    assert node == BinaryOp("eq", p("name"), lit("x"))
    assert node.pos == 13
    assert node.left.pos == 8
    assert node.right.pos == 16


def test_slice_errors_use_whole_text_and_context():
    text = "Things($filter=name eq;$top=1)"
    with pytest.raises(QuerySyntaxError) as info:
        parse_expression(text, start=15, end=22, context="$expand")
    assert info.value.position == 22
    assert info.value.text == text
    assert info.value.message.startswith("in $expand: unexpected end of expression")


def test_node_positions():
    node = parse_expression("not (a add -1) eq year(b)")
    assert node.pos == 0
    comparison = node.operand
    assert comparison.pos == 15
    assert comparison.left.pos == 7
    assert comparison.left.right.pos == 11
    assert comparison.right.pos == 18
    assert comparison.right.args[0].pos == 23


def test_positions_do_not_affect_equality():
    assert Path(("a",), 0) == Path(("a",), 10)
    assert parse_expression("  a") == parse_expression("a")
