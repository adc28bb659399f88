"""Label rules and selectors against apimachinery's messages (pkg/labels/selector_test.go,
pkg/util/validation/validation_test.go)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubesim.errors import InvalidSelector
from kubesim.labels import (
    Requirement,
    Selector,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    is_valid_percent,
    is_valid_port_name,
    is_valid_port_num,
    mask_trailing_dash,
    parse_selector,
    selector_from_label_selector,
    selector_from_set,
)
from kubesim.objects import LabelSelector, LabelSelectorRequirement

LABEL_REGEX = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
SUBDOMAIN_REGEX = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS1035_REGEX = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
KEY_NAME_REGEX = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
VALUE_REGEX = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
    "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


# ------------------------------------------------------------------------------------------
# syntax rules


@pytest.mark.parametrize("v", ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "a" * 63])
def test_dns1123_label_valid(v: str) -> None:
    assert is_dns1123_label(v) == ()


@pytest.mark.parametrize(
    "v,errs",
    [
        ("", (LABEL_REGEX,)),
        ("A", (LABEL_REGEX,)),
        ("-a", (LABEL_REGEX,)),
        ("a-", (LABEL_REGEX,)),
        ("a_b", (LABEL_REGEX,)),
        ("a.b", ("must not contain dots",)),
        ("a" * 64, ("must be no more than 63 characters",)),
        ("a\n", (LABEL_REGEX,)),  # Go's $ does not match before a trailing newline
    ],
)
def test_dns1123_label_invalid(v: str, errs: tuple[str, ...]) -> None:
    assert is_dns1123_label(v) == errs


def test_dns1123_subdomain() -> None:
    assert is_dns1123_subdomain("example.com") == ()
    assert is_dns1123_subdomain("a" * 253) == ()
    assert is_dns1123_subdomain("Web") == (SUBDOMAIN_REGEX,)
    assert is_dns1123_subdomain("a..b") == (SUBDOMAIN_REGEX,)
    assert is_dns1123_subdomain("a" * 254) == ("must be no more than 253 characters",)


def test_dns1035_label() -> None:
    assert is_dns1035_label("web") == ()
    assert is_dns1035_label("1web") == (DNS1035_REGEX,)
    assert is_dns1035_label("Web") == (DNS1035_REGEX,)
    assert is_dns1035_label("a" * 64) == ("must be no more than 63 characters",)


@pytest.mark.parametrize(
    "v", ["simple", "now-with-dashes", "1-starts-with-num", "1234", "simple/simple", "example.com/Upper",
          "a.b.c/name_with.chars", "k" * 63, "p" * 253 + "/n"]
)
def test_qualified_name_valid(v: str) -> None:
    assert is_qualified_name(v) == ()


@pytest.mark.parametrize(
    "v,errs",
    [
        ("", ("name part must be non-empty", KEY_NAME_REGEX)),
        ("/a", ("prefix part must be non-empty",)),
        ("a/", ("name part must be non-empty", KEY_NAME_REGEX)),
        ("-a", (KEY_NAME_REGEX,)),
        ("Upper/a", ("prefix part " + SUBDOMAIN_REGEX,)),
        ("k" * 64, ("name part must be no more than 63 bytes",)),
        ("p" * 254 + "/n", ("prefix part must be no more than 253 bytes",)),
        (
            "a/b/c",
            (
                "a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must "
                "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
                "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') "
                "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
            ),
        ),
    ],
)
def test_qualified_name_invalid(v: str, errs: tuple[str, ...]) -> None:
    assert is_qualified_name(v) == errs


def test_label_value() -> None:
    for ok in ["", "a", "A", "a-b_c.d", "1", "v" * 63]:
        assert is_valid_label_value(ok) == ()
    assert is_valid_label_value("-a") == (VALUE_REGEX,)
    assert is_valid_label_value("a b") == (VALUE_REGEX,)
    assert is_valid_label_value("v" * 64) == ("must be no more than 63 bytes",)


@pytest.mark.parametrize("v", ["http", "https", "h-t-t-p", "abc-123", "a" * 15, "1a"])
def test_port_name_valid(v: str) -> None:
    assert is_valid_port_name(v) == ()


@pytest.mark.parametrize(
    "v,errs",
    [
        ("", ("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
              "must contain at least one letter (a-z)")),
        ("a" * 16, ("must be no more than 15 characters",)),
        ("1234", ("must contain at least one letter (a-z)",)),
        ("Http", ("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",)),
        ("a--b", ("must not contain consecutive hyphens",)),
        ("-ab", ("must not begin or end with a hyphen",)),
        ("ab-", ("must not begin or end with a hyphen",)),
    ],
)
def test_port_name_invalid(v: str, errs: tuple[str, ...]) -> None:
    assert is_valid_port_name(v) == errs


def test_port_num_and_percent() -> None:
    assert is_valid_port_num(1) == () and is_valid_port_num(65535) == ()
    assert is_valid_port_num(0) == ("must be between 1 and 65535, inclusive",)
    assert is_valid_port_num(65536) == ("must be between 1 and 65535, inclusive",)
    assert is_valid_percent("25%") == ()
    assert is_valid_percent("25") == (
        "a valid percent string must be a numeric string followed by an ending '%' "
        "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    )


def test_mask_trailing_dash() -> None:
    assert mask_trailing_dash("web-") == "wea"
    assert mask_trailing_dash("-") == "-"
    assert mask_trailing_dash("web") == "web"


# ------------------------------------------------------------------------------------------
# parser: valid strings and their canonical form (selector_test.go TestSelectorParse et al.)

PARSE_TABLE = [
    ("", ""),
    ("x=a,y=b,z=c", "x=a,y=b,z=c"),
    ("x!=a,y=b", "x!=a,y=b"),
    ("x=,z= ", "x=,z="),
    ("x= ,z= ", "x=,z="),
    ("!x", "!x"),
    ("x>1", "x>1"),
    ("x>1,z<5", "x>1,z<5"),
    ("x==a", "x==a"),
    ("  a  ==  b  ", "a==b"),
    ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
    ("x in (bar, foo)", "x in (bar,foo)"),
    ("x in (foo,bar,foo)", "x in (bar,foo)"),
    ("x notin (foo)", "x notin (foo)"),
    ("b=2,a=1", "a=1,b=2"),
    ("in in (in)", "in in (in)"),
    ("x in (,)", "x in ()"),
    ("example.com/app=web", "example.com/app=web"),
    ("a\tin\t(b)", "a in (b)"),
]


@pytest.mark.parametrize("text,canonical", PARSE_TABLE)
def test_parse_canonical(text: str, canonical: str) -> None:
    s = parse_selector(text)
    assert str(s) == canonical
    assert parse_selector(str(s)) == s  # round trip
    assert eval(repr(s), {"Selector": Selector, "Requirement": Requirement}) == s


PARSE_ERRORS = [
    ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
    ("a,", "found '', expected: identifier after ','"),
    ("=a", "found '=', expected: !, identifier, or 'end of string'"),
    ("a=b c", "found 'c', expected: ',' or 'end of string'"),
    ("x=a||y=b", 'unable to parse requirement: values[0][x]: Invalid value: "a||y": ' + VALUE_REGEX),
    ("x=a y=b", "found 'y', expected: ',' or 'end of string'"),
    ("a in x", "unable to parse requirement: found 'x' expected: '('"),
    ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
    ("a in (", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
    ("a in (b,", "unable to parse requirement: found '', expected: ',', or identifier"),
    ("a=(b)", "unable to parse requirement: found '(', expected: identifier"),
    ("!a=b", "found '=', expected: ',' or 'end of string'"),
    ("!=a", "found '!=', expected: !, identifier, or 'end of string'"),
    ("! =a", "unable to parse requirement: found '=', expected: identifier"),
    ("x<a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer"),
    ("a=-bad", 'unable to parse requirement: values[0][a]: Invalid value: "-bad": ' + VALUE_REGEX),
    ("-a=b", 'unable to parse requirement: <nil>: Invalid value: "-a": ' + KEY_NAME_REGEX),
]


@pytest.mark.parametrize("text,message", PARSE_ERRORS)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidSelector) as ei:
        parse_selector(text)
    assert str(ei.value) == message


def test_parse_multiple_value_errors_are_aggregated() -> None:
    with pytest.raises(InvalidSelector) as ei:
        parse_selector("a in (-x,-y)")
    msg = str(ei.value)
    assert msg.startswith("unable to parse requirement: [values[0][a]: Invalid value: \"-x\": ")
    assert ', values[1][a]: Invalid value: "-y": ' in msg and msg.endswith("]")


# ------------------------------------------------------------------------------------------
# matching (selector_test.go TestSelectorMatches / TestRequirementMatches)

MATCH_TABLE = [
    ("", {"x": "y"}, True),
    ("x=y", {"x": "y"}, True),
    ("x=y,z=w", {"x": "y", "z": "w"}, True),
    ("x!=y,z!=w", {"x": "z", "z": "a"}, True),
    ("notin=in", {"notin": "in"}, True),
    ("x", {"x": "z"}, True),
    ("!x", {"y": "z"}, True),
    ("x>1", {"x": "2"}, True),
    ("x<1", {"x": "0"}, True),
    ("x in (a,b)", {"x": "b"}, True),
    ("x notin (a)", {}, True),
    ("x=z", {}, False),
    ("x=y", {"x": "z"}, False),
    ("x=y,z=w", {"x": "w", "z": "w"}, False),
    ("x!=y,z!=w", {"x": "z", "z": "w"}, False),
    ("x", {"y": "z"}, False),
    ("!x", {"x": "z"}, False),
    ("x>1", {"x": "0"}, False),
    ("x<1", {"x": "2"}, False),
    ("x>1", {"x": "a"}, False),
    ("x in (a,b)", {}, False),
    ("x notin (a)", {"x": "a"}, False),
]


@pytest.mark.parametrize("text,labels,expected", MATCH_TABLE)
def test_matches(text: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_selector(text).matches(labels) is expected


def test_everything_nothing() -> None:
    assert Selector.everything().empty and Selector.everything().matches({})
    assert not Selector.nothing().empty and not Selector.nothing().matches({})
    assert str(Selector.nothing()) == "" and Selector.nothing() != Selector.everything()
    assert repr(Selector.nothing()) == "Selector.nothing()"
    assert hash(parse_selector("a=b")) == hash(parse_selector(" a = b "))


def test_requires_exact_match() -> None:
    s = parse_selector("a=1,b in (2),c in (3,4),d!=5")
    assert s.requires_exact_match("a") == "1"
    assert s.requires_exact_match("b") == "2"
    assert s.requires_exact_match("c") is None
    assert s.requires_exact_match("d") is None
    assert s.requires_exact_match("e") is None


def test_selector_from_set() -> None:
    assert selector_from_set(None) == Selector.nothing()
    assert selector_from_set({}) == Selector.everything()
    s = selector_from_set({"b": "2", "a": "1"})
    assert str(s) == "a=1,b=2"
    assert s.matches({"a": "1", "b": "2", "c": "3"}) and not s.matches({"a": "1"})


def test_selector_from_label_selector() -> None:
    assert selector_from_label_selector(None) == Selector.nothing()
    assert selector_from_label_selector(LabelSelector()) == Selector.everything()
    ls = LabelSelector(
        match_labels={"app": "web"},
        match_expressions=[
            LabelSelectorRequirement("tier", "In", ("b", "a")),
            LabelSelectorRequirement("env", "NotIn", ("prod",)),
            LabelSelectorRequirement("canary", "DoesNotExist"),
            LabelSelectorRequirement("team", "Exists"),
        ],
    )
    s = selector_from_label_selector(ls)
    assert str(s) == "app=web,!canary,env notin (prod),team,tier in (a,b)"
    assert s.matches({"app": "web", "tier": "a", "team": "x"})
    assert not s.matches({"app": "web", "tier": "a", "team": "x", "canary": "1"})


@pytest.mark.parametrize(
    "req,message",
    [
        (LabelSelectorRequirement("a", "Foo", ("x",)), '"Foo" is not a valid label selector operator'),
        (LabelSelectorRequirement("a", "In"), "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"),
        (LabelSelectorRequirement("a", "Exists", ("x",)), 'values: Invalid value: ["x"]: values set must be empty for exists and does not exist'),
        (LabelSelectorRequirement("-a", "Exists"), 'key: Invalid value: "-a": ' + KEY_NAME_REGEX),
    ],
)
def test_selector_from_label_selector_errors(req: LabelSelectorRequirement, message: str) -> None:
    with pytest.raises(InvalidSelector) as ei:
        selector_from_label_selector(LabelSelector(match_expressions=[req]))
    assert str(ei.value) == message


# ------------------------------------------------------------------------------------------
# properties

_name = st.from_regex(r"[a-z0-9]([a-z0-9._-]{0,8}[a-z0-9])?", fullmatch=True)
_value = st.one_of(st.just(""), _name)
_labels = st.dictionaries(st.sampled_from(["a", "b", "c", "example.com/d"]), st.sampled_from(["", "x", "y", "1", "2"]), max_size=4)


@st.composite
def _requirements(draw: st.DrawFn) -> Requirement:
    key = draw(st.sampled_from(["a", "b", "c", "example.com/d"]))
    op = draw(st.sampled_from(["in", "notin", "=", "==", "!=", "exists", "!", "gt", "lt"]))
    if op in ("in", "notin"):
        vals = draw(st.lists(st.sampled_from(["", "x", "y", "1"]), min_size=1, max_size=3))
    elif op in ("exists", "!"):
        vals = []
    elif op in ("gt", "lt"):
        vals = [str(draw(st.integers(0, 5)))]  # '-1' is not a valid label value
    else:
        vals = [draw(st.sampled_from(["", "x", "y", "1"]))]
    return Requirement.new(key, op, vals)


@given(st.lists(_requirements(), max_size=5))
def test_string_round_trip(reqs: list[Requirement]) -> None:
    s = Selector(reqs)
    assert parse_selector(str(s)) == s


@given(st.lists(_requirements(), max_size=5), _labels)
def test_selector_is_and_of_requirements(reqs: list[Requirement], labels: dict[str, str]) -> None:
    assert Selector(reqs).matches(labels) == all(r.matches(labels) for r in reqs)


@given(st.lists(_requirements(), min_size=1, max_size=5), _labels)
def test_parsed_matches_constructed(reqs: list[Requirement], labels: dict[str, str]) -> None:
    s = Selector(reqs)
    assert parse_selector(str(s)).matches(labels) == s.matches(labels)


@given(st.dictionaries(_name, _value, max_size=5), _labels)
def test_set_selector_matches_iff_subset(m: dict[str, str], labels: dict[str, str]) -> None:
    s = selector_from_set(m)
    assert s.matches(labels) == all(labels.get(k) == v for k, v in m.items())
    assert s.matches({**labels, **m})


@given(_requirements(), _labels)
def test_negation_pairs(r: Requirement, labels: dict[str, str]) -> None:
    # in/notin and exists/!exists are complements of each other
    if r.operator in ("in", "notin"):
        other = Requirement(r.key, "notin" if r.operator == "in" else "in", r.values)
        assert r.matches(labels) != other.matches(labels)
    if r.operator in ("exists", "!"):
        other = Requirement(r.key, "!" if r.operator == "exists" else "exists")
        assert r.matches(labels) != other.matches(labels)
