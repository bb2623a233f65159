import pytest

from cityhub.errors import BadRequest, NotImplementedYet, QuerySyntaxError
from cityhub.sensorthings.odata import BinaryOp, Call, Literal, Path
from cityhub.sensorthings.options import (
    Expand,
    OrderBy,
    QueryOptions,
    parse_expand,
    parse_orderby,
    parse_query_options,
    parse_select,
)


def p(*segments):
    return Path(tuple(segments))


def opts(**params):
    return parse_query_options(params.items())


# --- defaults and simple options ------------------------------------------------------------


def test_no_options_gives_defaults():
    options = parse_query_options([])
    assert options == QueryOptions()
    assert options.top is None
    assert options.skip is None
    assert options.count is None
    assert options.filter is None
    assert options.orderby == ()
    assert options.select is None
    assert options.expand == ()
    assert options.result_format is None


def test_custom_options_are_ignored():
    assert parse_query_options([("foo", "bar"), ("top", "-1"), ("filter", "(")]) == QueryOptions()


@pytest.mark.parametrize(("value", "expected"), [("0", 0), ("1", 1), ("100", 100), ("007", 7)])
def test_top_and_skip(value, expected):
    assert parse_query_options([("$top", value)]).top == expected
    assert parse_query_options([("$skip", value)]).skip == expected


@pytest.mark.parametrize("value", ["-1", "1.5", "abc", "", " 1", "+1", "1e3", "٣"])
@pytest.mark.parametrize("name", ["$top", "$skip"])
def test_top_and_skip_reject_bad_values(name, value):
    with pytest.raises(BadRequest) as info:
        parse_query_options([(name, value)])
    assert not isinstance(info.value, QuerySyntaxError)
    assert name in info.value.message
    assert repr(value) in info.value.message


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False)])
def test_count(value, expected):
    assert parse_query_options([("$count", value)]).count is expected


@pytest.mark.parametrize("value", ["True", "1", "yes", "", "TRUE"])
def test_count_rejects_other_values(value):
    with pytest.raises(BadRequest, match=r"\$count must be 'true' or 'false'"):
        parse_query_options([("$count", value)])


def test_filter():
    options = opts(**{"$filter": "name eq 'x' and result gt 3"})
    assert options.filter == BinaryOp(
        "and", BinaryOp("eq", p("name"), Literal("x")), BinaryOp("gt", p("result"), Literal(3))
    )


def test_filter_syntax_error_names_option():
    with pytest.raises(QuerySyntaxError) as info:
        opts(**{"$filter": "name eq"})
    assert info.value.position == 7
    assert info.value.message.startswith("in $filter: unexpected end of expression")


def test_empty_filter_is_rejected():
    with pytest.raises(QuerySyntaxError, match="empty expression"):
        opts(**{"$filter": ""})


def test_result_format():
    assert opts(**{"$resultFormat": "dataArray"}).result_format == "dataArray"
    with pytest.raises(BadRequest, match="must not be empty"):
        opts(**{"$resultFormat": " "})


def test_option_names_are_case_insensitive():
    options = parse_query_options([("$TOP", "3"), ("$resultformat", "dataArray")])
    assert options.top == 3
    assert options.result_format == "dataArray"


def test_all_options_together():
    options = parse_query_options(
        [
            ("$top", "5"),
            ("$skip", "10"),
            ("$count", "true"),
            ("$filter", "id eq 1"),
            ("$orderby", "name"),
            ("$select", "name"),
            ("$expand", "Thing"),
            ("$resultFormat", "dataArray"),
        ]
    )
    assert options == QueryOptions(
        top=5,
        skip=10,
        count=True,
        filter=BinaryOp("eq", p("id"), Literal(1)),
        orderby=(OrderBy(p("name"), False),),
        select=(("name",),),
        expand=(Expand(("Thing",), QueryOptions()),),
        result_format="dataArray",
    )


# --- repeated and unsupported options -------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("$top", "1"), ("$top", "2")),
        (("$top", "1"), ("$Top", "1")),
        (("$filter", "a eq 1"), ("$filter", "b eq 2")),
        (("$count", "true"), ("$count", "true")),
        (("$expand", "Thing"), ("$expand", "Locations")),
    ],
)
def test_repeated_option_is_rejected(first, second):
    with pytest.raises(BadRequest, match="more than once") as info:
        parse_query_options([first, second])
    assert first[0].lower() in info.value.message.lower()


@pytest.mark.parametrize("name", ["$search", "$format", "$apply", "$levels", "$compute", "$id"])
def test_unknown_system_option_is_not_implemented(name):
    with pytest.raises(NotImplementedYet) as info:
        parse_query_options([(name, "x")])
    assert name in info.value.message
    assert info.value.status == 501


# --- $orderby -------------------------------------------------------------------------------


def test_orderby_single_and_directions():
    assert parse_orderby("name") == (OrderBy(p("name"), False),)
    assert parse_orderby("name asc") == (OrderBy(p("name"), False),)
    assert parse_orderby("name desc") == (OrderBy(p("name"), True),)
    assert parse_orderby("  name   desc  ") == (OrderBy(p("name"), True),)


def test_orderby_multiple_with_paths():
    assert parse_orderby("Datastream/Thing/name desc,phenomenonTime, @iot.id asc") == (
        OrderBy(p("Datastream", "Thing", "name"), True),
        OrderBy(p("phenomenonTime"), False),
        OrderBy(p("@iot.id"), False),
    )


def test_orderby_commas_inside_calls_do_not_split():
    assert parse_orderby("substring(name, 1, 2) desc, concat(a, ',') asc") == (
        OrderBy(Call("substring", (p("name"), Literal(1), Literal(2))), True),
        OrderBy(Call("concat", (p("a"), Literal(","))), False),
    )


def test_orderby_expression():
    assert parse_orderby("result mul -1 desc") == (
        OrderBy(BinaryOp("mul", p("result"), Literal(-1)), True),
    )


def test_orderby_property_named_like_direction():
    assert parse_orderby("desc") == (OrderBy(p("desc"), False),)
    assert parse_orderby("properties/desc asc") == (OrderBy(p("properties", "desc"), False),)


def test_orderby_via_query_options():
    options = opts(**{"$orderby": "phenomenonTime desc,id"})
    assert options.orderby == (OrderBy(p("phenomenonTime"), True), OrderBy(p("id"), False))


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("a,,b", 2, "empty $orderby item"),
        ("a,", 2, "empty $orderby item"),
        ("", 0, "empty $orderby item"),
        ("name sideways", 5, "unexpected 'sideways'"),
        ("name DESC", 5, "unexpected 'DESC'"),
        ("substring(name, 1", 9, "missing ')'"),
        ("name eq 'x", 8, "unterminated string"),
        ("a), b", 1, "unbalanced ')'"),
    ],
)
def test_orderby_errors(text, position, message):
    with pytest.raises(QuerySyntaxError) as info:
        parse_orderby(text)
    assert info.value.position == position
    assert message in info.value.message
    assert info.value.message.startswith("in $orderby:")


# --- $select --------------------------------------------------------------------------------


def test_select():
    assert parse_select("id,name, unitOfMeasurement/name") == (
        ("id",),
        ("name",),
        ("unitOfMeasurement", "name"),
    )
    assert parse_select("@iot.id,@iot.selfLink") == (("@iot.id",), ("@iot.selfLink",))
    assert opts(**{"$select": "id"}).select == (("id",),)


@pytest.mark.parametrize(
    ("text", "position"),
    [("", 0), ("a,", 2), ("a/,b", 2), ("a b", 0), ("1abc", 0), ("name,*", 5), ("a/(b)", 2)],
)
def test_select_errors(text, position):
    with pytest.raises(QuerySyntaxError) as info:
        parse_select(text)
    assert info.value.position == position
    assert info.value.message.startswith("in $select:")


# --- $expand --------------------------------------------------------------------------------


def test_expand_simple_list():
    assert parse_expand("Datastreams,Locations") == (
        Expand(("Datastreams",), QueryOptions()),
        Expand(("Locations",), QueryOptions()),
    )


def test_expand_path():
    assert parse_expand("Datastreams/Observations") == (
        Expand(("Datastreams", "Observations"), QueryOptions()),
    )
    assert parse_expand(" Datastreams / Sensor ") == (Expand(("Datastreams", "Sensor")),)


def test_expand_nested_options():
    text = (
        "Datastreams($select=name;$top=2;"
        "$expand=Observations($orderby=phenomenonTime desc;$top=1)),Locations"
    )
    assert parse_expand(text) == (
        Expand(
            ("Datastreams",),
            QueryOptions(
                top=2,
                select=(("name",),),
                expand=(
                    Expand(
                        ("Observations",),
                        QueryOptions(top=1, orderby=(OrderBy(p("phenomenonTime"), True),)),
                    ),
                ),
            ),
        ),
        Expand(("Locations",), QueryOptions()),
    )


def test_expand_nested_filter_with_separators_in_string():
    (item,) = parse_expand("Observations($filter=result eq 'a;b,c)(';$count=true;$skip=3)")
    assert item.options.filter == BinaryOp("eq", p("result"), Literal("a;b,c)("))
    assert item.options.count is True
    assert item.options.skip == 3


def test_expand_nested_select_list_and_nested_expand_list():
    (item,) = parse_expand("Datastreams($select=id,name;$expand=Sensor,ObservedProperty)")
    assert item.options.select == (("id",), ("name",))
    assert [e.path for e in item.options.expand] == [("Sensor",), ("ObservedProperty",)]


def test_expand_options_on_path():
    (item,) = parse_expand("Datastreams/Observations($top=1)")
    assert item.path == ("Datastreams", "Observations")
    assert item.options.top == 1


def test_expand_filter_positions_point_into_expand_text():
    (item,) = parse_expand("Datastreams($filter=name eq 'x')")
    assert item.options.filter.pos == 25
    assert item.options.filter.left.pos == 20


def test_expand_via_query_options():
    options = opts(**{"$expand": "Thing($select=name)"})
    assert options.expand == (Expand(("Thing",), QueryOptions(select=(("name",),))),)


def test_expand_nested_syntax_error_points_into_expand_text():
    text = "Datastreams($filter=name eq)"
    with pytest.raises(QuerySyntaxError) as info:
        parse_expand(text)
    assert info.value.position == 27
    assert info.value.text == text
    assert info.value.message.startswith("in $expand:")


def test_expand_nested_bad_value_names_both_options():
    with pytest.raises(BadRequest) as info:
        parse_expand("Datastreams($top=-1)")
    assert "in $expand" in info.value.message
    assert "$top" in info.value.message
    assert "'-1'" in info.value.message


def test_expand_nested_repeated_option():
    with pytest.raises(BadRequest, match=r"\$top given more than once"):
        parse_expand("Datastreams($top=1;$top=2)")


def test_expand_nested_unknown_option_is_not_implemented():
    with pytest.raises(NotImplementedYet, match=r"\$levels"):
        parse_expand("Datastreams($levels=2)")


def test_expand_nested_result_format_not_allowed():
    with pytest.raises(BadRequest, match="not allowed inside"):
        parse_expand("Datastreams($resultFormat=dataArray)")


def test_expand_star_is_not_implemented():
    with pytest.raises(NotImplementedYet, match=r"\*"):
        parse_expand("*")


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "empty $expand item"),
        ("Thing,,Locations", 6, "empty $expand item"),
        ("Datastreams(", 11, "missing ')'"),
        ("Datastreams($top=1", 11, "missing ')'"),
        ("Datastreams)", 11, "unbalanced ')'"),
        ("Datastreams($top=1)x", 19, "unexpected text after ')'"),
        ("Datastreams()", 12, "empty option list"),
        ("Datastreams($top=1;;$skip=1)", 19, "empty option"),
        ("Datastreams(top=1)", 12, "only system query options"),
        ("Datastreams($top)", 12, "expected name=value"),
        ("Data streams", 0, "invalid navigation property"),
        ("Datastreams/", 12, "empty navigation property"),
        ("($top=1)", 0, "empty navigation property"),
        ("@iot.id", 0, "invalid navigation property"),
        ("Datastreams($filter=name eq 'x)", 28, "unterminated string"),
        ("Datastreams($expand=Observations($orderby=))", 42, "empty $orderby item"),
    ],
)
def test_expand_errors(text, position, message):
    with pytest.raises(QuerySyntaxError) as info:
        parse_expand(text)
    assert info.value.position == position
    assert message in info.value.message
    assert info.value.message.startswith("in $expand:")
