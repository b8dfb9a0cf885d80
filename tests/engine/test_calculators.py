from __future__ import annotations

from typing import Any

import pytest

from gateway.core.errors import NodeFailure, Problem
from gateway.engine.calculators import CALCULATORS, check_calculation, evaluate
from gateway.engine.paths import MISSING
from tests import reference

U = MISSING  # a path that leads nowhere: JavaScript's undefined
ERROR = "error"  # JavaScript throws: the node ends ERROR

# (calculator, a, b, NocoBase's answer). Every row is also asked of NocoBase's own
# logicCalculate (test_the_table_is_nocobases_truth), so the table is its behaviour.
CASES: list[tuple[str, Any, Any, bool | str]] = [
    # equal: JavaScript's ==
    ("equal", 1, "1", True),  # a number and numeric text
    ("equal", 1, "1.0", True),  # compared as numbers
    ("equal", "1", "1.0", False),  # two texts compare as text
    ("equal", "", 0, True),  # "" is 0
    ("equal", " ", 0, True),  # so is white space
    ("equal", "0x10", 16, True),  # hex text is a number
    ("equal", True, 1, True),  # true is 1
    ("equal", True, "true", False),  # but not "true" (it is NaN as a number)
    ("equal", False, "", True),  # false is 0, "" is 0
    ("equal", None, U, True),  # null == undefined
    ("equal", None, 0, False),  # null equals nothing else
    ("equal", None, "", False),
    ("equal", U, U, True),
    ("equal", [1, 2], "1,2", True),  # a list reads as its items joined
    ("equal", [1], 1, True),  # through its text
    ("equal", [1], [1], False),  # two lists are two objects
    ("equal", {"a": 1}, "[object Object]", True),  # an object reads as [object Object]
    ("equal", 12345678901234567891, "12345678901234567891", True),  # a big id and its text
    ("equal", "abc", "ABC", False),  # case matters
    ("notEqual", "", 0, False),
    ("notEqual", None, "paid", True),  # a missing field is not "paid"
    # gt, gte, lt, lte: JavaScript's relational operators
    ("gt", 10, 9, True),
    ("gt", "10", "9", False),  # two texts: as text
    ("gt", "10", 9, True),  # one number: as numbers
    ("gt", None, -1, True),  # null is 0
    ("gt", U, -1, False),  # undefined is NaN: false every way
    ("lte", U, 5, False),
    ("gte", None, 0, True),
    ("lt", "a", "b", True),
    ("lt", "B", "a", True),  # code units: upper case first
    ("lt", "abc", 5, False),  # NaN
    ("gte", "abc", 5, False),
    ("lte", True, 1, True),  # true is 1
    ("gt", [2], 1, True),  # a list through its text
    ("gte", "2024-05-01", "2024-04-30", True),  # ISO dates compare as text
    ("lt", 1.5, "1.50", False),
    # includes: String.prototype.includes / Array.prototype.includes
    ("includes", "order paid", "paid", True),
    ("includes", "a1b", 1, True),  # the needle as text
    ("includes", "nullish", None, True),  # null reads "null"
    ("includes", [1, 2], 2, True),
    ("includes", [1, 2], "2", False),  # no conversion in a list
    ("includes", ["1", "2"], 1, False),
    ("includes", [None], None, True),
    ("includes", [[1]], [1], False),  # another list
    ("includes", None, "x", ERROR),  # null has no includes
    ("includes", U, "x", ERROR),  # nor undefined
    ("includes", 123, "2", ERROR),  # nor a number
    ("includes", {"a": 1}, "a", ERROR),  # nor an object
    ("notIncludes", [1, 2], "2", True),
    ("notIncludes", "paid", "x", True),
    ("notIncludes", None, "x", ERROR),
    # startsWith, endsWith: String(a).startsWith(String(b))
    ("startsWith", "order_1", "order", True),
    ("startsWith", 10.0, "10.", False),  # 10.0 reads "10"
    ("startsWith", 1.5, "1.", True),
    ("startsWith", 1e21, "1e+", True),  # JavaScript's exponent form
    ("startsWith", 0.000001, "0.000", True),
    ("startsWith", True, "tr", True),  # a boolean reads as its name
    ("startsWith", [1, 2], "1,", True),  # a list as its items joined
    ("startsWith", {"a": 1}, "[object", True),
    ("startsWith", "null value", None, ERROR),  # a null needle throws too (null.toString)
    ("startsWith", None, "a", ERROR),  # null has no toString
    ("startsWith", U, "a", ERROR),
    ("endsWith", "file.pdf", ".pdf", True),
    ("endsWith", 100, 0, True),
    ("endsWith", [1, [2, 3]], "2,3", True),  # nested lists join all the way down
    ("notStartsWith", "abc", "b", True),
    ("notEndsWith", None, "a", ERROR),
    ("==", "1", 1, True),  # the aliases are the same functions
    (">=", "10", 9, True),
]


@pytest.fixture(scope="module")
def nocobase() -> list[dict[str, Any]]:
    """NocoBase's logicCalculate on every row, in one Node run."""

    def js(value: Any) -> Any:
        return {"$undefined": True} if value is MISSING else value

    tasks = [
        {"kind": "calculate", "calculation": {"calculator": c, "operands": [js(a), js(b)]}}
        for c, a, b, _ in CASES
    ]
    return reference.run(tasks)


def gateway(calculator: str, a: Any, b: Any) -> bool | str:
    try:
        return CALCULATORS[calculator](a, b)
    except NodeFailure:
        return ERROR


@pytest.mark.parametrize(
    ("index", "case"), list(enumerate(CASES)), ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_calculators_answer_as_nocobase(
    nocobase: list[dict[str, Any]], index: int, case: tuple[str, Any, Any, bool | str]
) -> None:
    calculator, a, b, expected = case
    theirs = nocobase[index]
    assert (ERROR if "error" in theirs else theirs["value"]) == expected  # the table is right
    assert gateway(calculator, a, b) == expected


def test_errors_read_as_nocobases() -> None:
    with pytest.raises(
        NodeFailure, match=r"^TypeError: Cannot read properties of null \(reading 'includes'\)$"
    ):
        CALCULATORS["includes"](None, "x")


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
