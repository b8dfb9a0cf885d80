from __future__ import annotations

from typing import Any

import pytest

from gateway.core.errors import Problem
from gateway.engine.calculators import CALCULATORS, check_calculation, evaluate


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (1, 1, True),  # same number
        (1, 1.0, True),  # int and float
        (1, "1", True),  # number and numeric string
        ("1.0", 1, True),  # numeric string and number
        (1500, " 1.5e3 ", True),  # exponent and surrounding whitespace
        (-2, "-2", True),  # signed
        (12345678901234567891, "12345678901234567891", True),  # big ints compare exactly
        (12345678901234567890, "12345678901234567891", False),  # no float rounding
        (1, "01", True),  # leading zero is still numeric
        (0, "", False),  # empty string is not zero (unlike JS)
        (1, "one", False),  # non-numeric string
        (1, "0x1", False),  # no hex
        (1000, "1_000", False),  # no underscores
        (float("inf"), "inf", False),  # no inf text
        ("1", "1.0", False),  # two strings compare as text (as in JS)
        ("a", "a", True),  # same string
        ("a", "A", False),  # case-sensitive
        (True, True, True),  # same bool
        (True, False, False),  # different bools
        (True, "true", True),  # bool and its text
        ("false", False, True),  # text and bool
        (True, "True", False),  # only the lower-case JSON spelling
        (True, 1, False),  # a bool never equals a number
        (False, 0, False),  # nor zero
        (False, "0", False),  # nor a numeric string
        (None, None, True),  # null equals null
        (None, 0, False),  # null is not zero
        (None, "", False),  # nor empty text
        (False, None, False),  # nor false
        ({"a": 1}, {"a": 1}, True),  # dicts structurally
        ({"a": 1}, {"a": "1"}, True),  # loose inside containers
        ({"a": 1}, {"a": 1, "b": 2}, False),  # different keys
        ([1, 2], [1, 2], True),  # lists structurally
        ([1], ["1"], True),  # loose inside lists
        ([1], [True], False),  # no bool/number surprise inside lists
        ([1, 2], [1], False),  # different lengths
        ([1], {"0": 1}, False),  # list is not a dict
        (float("nan"), float("nan"), False),  # NaN never equals
    ],
)
def test_equal(a: Any, b: Any, expected: bool) -> None:
    assert CALCULATORS["equal"](a, b) is expected
    assert CALCULATORS["=="](a, b) is expected
    assert CALCULATORS["notEqual"](a, b) is not expected
    assert CALCULATORS["!="](a, b) is not expected


@pytest.mark.parametrize(
    ("a", "b", "order"),
    [
        (2, 1, ">"),  # numbers
        (1, 1.0, "="),  # int and float
        ("10", 9, ">"),  # numeric string and number compare as numbers
        (9, "10", "<"),  # number and numeric string
        ("10", "9", "<"),  # two strings compare as text (as in JS)
        ("b", "a", ">"),  # text
        ("abc", "abc", "="),  # equal text
        (-1.5, "-1.5", "="),  # negative float text
        (None, 1, None),  # null never compares
        (1, None, None),  # either side
        (True, 0, None),  # bools never compare
        (True, False, None),  # not even with each other
        (1, "x", None),  # number and non-numeric text
        ([2], [1], None),  # lists do not compare
        ({"a": 1}, {"a": 1}, None),  # dicts do not compare
        (float("nan"), 1, "nan"),  # NaN is neither bigger nor smaller
    ],
)
def test_ordering(a: Any, b: Any, order: str | None) -> None:
    expected = {
        ">": (True, True, False, False),
        "=": (False, True, False, True),
        "<": (False, False, True, True),
        None: (False, False, False, False),
        "nan": (False, False, False, False),
    }[order]
    for names in (("gt", "gte", "lt", "lte"), (">", ">=", "<", "<=")):
        assert tuple(CALCULATORS[name](a, b) for name in names) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("hello world", "lo w", True),  # substring
        ("hello", "", True),  # empty substring
        ("hello", "x", False),  # absent substring
        ("order-42", 42, True),  # number as text
        ("true", True, False),  # bools are not text
        ([1, 2, 3], 2, True),  # list element
        ([1, 2, 3], "2", True),  # loose element equality
        ([True], 1, False),  # no bool/number surprise
        ([{"a": 1}], {"a": 1}, True),  # structural element
        ([None], None, True),  # null element
        ([], 1, False),  # empty list
        ({"a": 1}, "a", True),  # dict key
        ({"1": "x"}, 1, True),  # number as key text
        ({"a": 1}, "b", False),  # absent key
        ({"a": 1}, None, False),  # null key
        (123, 2, False),  # numbers do not include
        (None, "a", False),  # null first operand
        ("abc", None, False),  # null needle
    ],
)
def test_includes(a: Any, b: Any, expected: bool) -> None:
    assert CALCULATORS["includes"](a, b) is expected
    negated = False if a is None else not expected
    assert CALCULATORS["notIncludes"](a, b) is negated


@pytest.mark.parametrize(
    ("a", "b", "starts", "ends"),
    [
        ("hello", "he", True, False),  # prefix
        ("hello", "lo", False, True),  # suffix
        ("hello", "", True, True),  # empty affix
        ("hello", "hello", True, True),  # whole string
        (12345, 12, True, False),  # numbers turn into text
        (1.5, ".5", False, True),  # float text
        ("v2", 2, False, True),  # number operand
        (True, "t", False, False),  # bools are not text
        (["a"], "a", False, False),  # lists are not text
        ({"a": 1}, "a", False, False),  # dicts are not text
        ("abc", None, False, False),  # null affix
        (None, "a", False, False),  # null subject
    ],
)
def test_starts_and_ends_with(a: Any, b: Any, starts: bool, ends: bool) -> None:
    assert CALCULATORS["startsWith"](a, b) is starts
    assert CALCULATORS["endsWith"](a, b) is ends
    assert CALCULATORS["notStartsWith"](a, b) is (a is not None and not starts)
    assert CALCULATORS["notEndsWith"](a, b) is (a is not None and not ends)


@pytest.mark.parametrize(
    "name",
    ["notIncludes", "notStartsWith", "notEndsWith"],
)
def test_negations_are_false_for_a_missing_field(name: str) -> None:
    assert CALCULATORS[name](None, "x") is False


def test_not_equal_is_true_for_a_missing_field() -> None:
    assert CALCULATORS["notEqual"](None, "paid") is True


def item(calculator: Any, a: Any, b: Any) -> dict[str, Any]:
    return {"calculator": calculator, "operands": [a, b]}


def group(kind: str, *calculations: Any) -> dict[str, Any]:
    return {"group": {"type": kind, "calculations": list(calculations)}}


TRUE = item("equal", 1, "1")
FALSE = item("gt", 1, 2)


@pytest.mark.parametrize(
    ("calculation", "expected"),
    [
        (None, True),  # no calculation
        ({}, True),  # empty calculation
        (TRUE, True),  # a bare item at the top
        (FALSE, False),  # a false bare item
        (group("and"), True),  # empty and (JS every)
        (group("or"), False),  # empty or (JS some)
        (group("and", TRUE, TRUE), True),  # all true
        (group("and", TRUE, FALSE), False),  # one false
        (group("or", FALSE, TRUE), True),  # one true
        (group("or", FALSE, FALSE), False),  # none true
        (group("and", TRUE, group("or", FALSE, TRUE)), True),  # nested or inside and
        (group("or", FALSE, group("and", TRUE, FALSE)), False),  # nested and inside or
        (group("and", group("and", group("or", group("and", TRUE)))), True),  # deep nesting
        (group("or", group("and"), FALSE), True),  # empty nested and counts as true
        (group("and", item("==", "paid", "paid"), item(">=", "10", 9)), True),  # aliases
        ({"group": {"type": "and"}}, True),  # missing calculations behaves as empty
    ],
)
def test_evaluate(calculation: Any, expected: bool) -> None:
    assert evaluate(calculation) is expected


@pytest.mark.parametrize(
    "calculation",
    [
        item("nope", 1, 1),  # unknown calculator
        {"calculator": "equal", "operands": [1]},  # one operand
        group("and", "not an object"),  # item not an object
    ],
)
def test_evaluate_rejects_malformed(calculation: Any) -> None:
    with pytest.raises(ValueError):
        evaluate(calculation)


F = "nodes.paid.config.calculation"


@pytest.mark.parametrize(
    ("calculation", "expected"),
    [
        (None, []),  # no calculation
        ({}, []),  # empty calculation
        (TRUE, []),  # a valid item
        (group("or", TRUE, group("and", FALSE)), []),  # a valid nested group
        (item("!=", 1, 2), []),  # alias names are valid
        ("equal", [(F, "must be an object, not a string")]),  # not an object
        ([TRUE], [(F, "must be an object, not a list")]),  # list at the top
        (item("equals", 1, 1), [(f"{F}.calculator", "unknown calculator 'equals'")]),  # typo
        ({"operands": [1, 2]}, [(f"{F}.calculator", "is missing")]),  # no calculator
        (
            {"calculator": "equal", "operands": [1]},
            [(f"{F}.operands", "must be a list of 2 operands, not a list of 1")],
        ),  # one operand
        (
            {"calculator": "equal", "operands": "1,2"},
            [(f"{F}.operands", "must be a list of 2 operands, not a string")],
        ),  # operands not a list
        (
            {"calculator": "equal"},
            [(f"{F}.operands", "must be a list of 2 operands, not null")],
        ),  # operands missing
        (
            {"group": {"type": "xor", "calculations": []}},
            [(f"{F}.group.type", "must be 'and' or 'or', not 'xor'")],
        ),  # bad group type
        (
            {"group": {"type": "and", "calculations": {"a": 1}}},
            [(f"{F}.group.calculations", "must be a list, not an object")],
        ),  # calculations not a list
        (
            {"group": {"type": "and"}},
            [(f"{F}.group.calculations", "must be a list, not null")],
        ),  # calculations missing
        ({"group": None}, [(f"{F}.group", "must be an object, not null")]),  # group not an object
        (
            group("and", TRUE, {"calculator": "nope", "operands": 3}, None),
            [
                (f"{F}.group.calculations[1].calculator", "unknown calculator 'nope'"),
                (
                    f"{F}.group.calculations[1].operands",
                    "must be a list of 2 operands, not a number",
                ),
                (f"{F}.group.calculations[2]", "must be an object, not null"),
            ],
        ),  # every problem at once, with positions
        (
            {"group": {"type": "any", "calculations": [group("or", item(5, 1, 2))]}},
            [
                (f"{F}.group.type", "must be 'and' or 'or', not 'any'"),
                (
                    f"{F}.group.calculations[0].group.calculations[0].calculator",
                    "unknown calculator 5",
                ),
            ],
        ),  # problems at several depths
    ],
)
def test_check_calculation(calculation: Any, expected: list[tuple[str, str]]) -> None:
    problems = check_calculation(calculation, F)
    assert [(p.field, p.message) for p in problems] == expected


def test_unknown_calculator_hint() -> None:
    [problem] = check_calculation(item("startWith", "a", "b"), "c")
    assert problem == Problem(
        "c.calculator",
        "unknown calculator 'startWith'",
        hint=f"did you mean 'startsWith'? valid: {', '.join(CALCULATORS)}",
    )
    [far] = check_calculation(item("zzz", "a", "b"), "c")
    assert far.hint is not None
    assert far.hint.startswith("valid: equal, notEqual, gt")


def test_every_spec_calculator_is_registered() -> None:
    names = {"equal", "notEqual", "gt", "gte", "lt", "lte", "includes", "notIncludes"}
    names |= {"startsWith", "notStartsWith", "endsWith", "notEndsWith"}
    assert names | {"==", "!=", ">", ">=", "<", "<="} == set(CALCULATORS)
