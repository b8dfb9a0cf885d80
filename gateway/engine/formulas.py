"""NocoBase's expression engines, `math.js` and `formula.js`, for the part of their
languages a workflow condition or calculation uses (docs/nocobase.md, Expression engines).

An expression is parsed once, when the workflow is saved, into a small tree; anything
outside the supported part is refused then, naming what and where (`5!`: "factorial is not
supported"), so a workflow never runs differently from NocoBase without saying so.
`{{ $path }}` placeholders are variables bound to compiled templates, never spliced as
text, as NocoBase binds them (`$$0`, `$$1`, …):

    compile_formula("math.js", "{{$context.body.amount}} * 1.2 > 100")   # evaluators.py

The two dialects share this parser and differ in their tokens and operator tables; their
meaning is `gateway.engine.mathjs` and `gateway.engine.formulajs`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.core.errors import TemplateError
from gateway.core.types import Scope
from gateway.engine.templates import Template, compile_template

MATHJS = "math.js"
FORMULAJS = "formula.js"
MAX_LENGTH = 4096
MAX_DEPTH = 64
POWER = 11  # JavaScript's ** precedence, above every binary operator of the tables


class FormulaInvalid(TemplateError):
    """Expression text outside what the gateway runs; the message says what and where."""


# --- the tree --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Const:
    value: Any


@dataclass(frozen=True, slots=True)
class Var:
    index: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Chain:
    """math.js `a < b <= c`: every neighbouring pair holds."""

    ops: tuple[str, ...]
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Cond:
    test: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Length:
    """JavaScript's `x.length` (formula.js)."""

    operand: Node


Node = Const | Var | Unary | Binary | Chain | Cond | Call | Length


# --- tokens ----------------------------------------------------------------------------

_PLACEHOLDER = r"\{\{\s*(?:ctx\.)?\$[^{}]*?\s*\}\}"
_STRING = r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'"
_NUMBER = r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_RADIX = r"0[xXoObB][0-9a-zA-Z]+"
_NAME = r"[A-Za-z_$][A-Za-z0-9_$]*"
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n"}
_ESCAPES |= {"r": "\r", "t": "\t", "v": "\v", "0": "\0"}


@dataclass(frozen=True, eq=False, slots=True)
class Dialect:
    name: str
    symbols: tuple[str, ...]  # longest first
    words: frozenset[str]  # names that are operators
    binary: Mapping[str, tuple[int, bool]]  # operator → (precedence, right-associative)
    unary: frozenset[str]
    power: str  # binds tighter than a unary operator on its left in math.js
    functions: frozenset[str]
    constants: Mapping[str, Any]
    chains: frozenset[str]  # relational operators that chain (math.js)


def _tokens(dialect: Dialect) -> re.Pattern[str]:
    symbols = "|".join(re.escape(s) for s in dialect.symbols)
    radix = f"(?P<radix>{_RADIX})|" if dialect.name == FORMULAJS else ""
    return re.compile(
        rf"\s*(?:(?P<placeholder>{_PLACEHOLDER})|{radix}(?P<number>{_NUMBER})"
        rf"|(?P<string>{_STRING})|(?P<name>{_NAME})|(?P<symbol>{symbols}))"
    )


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # placeholder, number, string, name, symbol, end
    text: str
    pos: int


@functools.lru_cache(maxsize=8)
def _pattern(dialect: Dialect) -> re.Pattern[str]:
    return _tokens(dialect)


def tokenize(text: str, dialect: Dialect) -> list[Token]:
    pattern = _pattern(dialect)
    out: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = pattern.match(text, pos)
        if match is None or match.lastgroup is None:
            start = len(text) - len(text[pos:].lstrip())
            raise FormulaInvalid(f"unexpected {text[start]!r} at position {start}")
        kind = "number" if match.lastgroup == "radix" else match.lastgroup
        out.append(Token(kind, match.group(match.lastgroup), match.start(match.lastgroup)))
        pos = match.end()
    out.append(Token("end", "", len(text)))
    return out


def _unescape(literal: str) -> str:
    out: list[str] = []
    body = literal[1:-1]
    pos = 0
    while pos < len(body):
        char = body[pos]
        if char != "\\":
            out.append(char)
            pos += 1
            continue
        code = body[pos + 1]
        if code == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[pos + 2 : pos + 6]):
            out.append(chr(int(body[pos + 2 : pos + 6], 16)))
            pos += 6
            continue
        if code not in _ESCAPES:
            raise FormulaInvalid(f"the escape \\{code} in {literal} is not supported")
        out.append(_ESCAPES[code])
        pos += 2
    return "".join(out)


# --- the parser -------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, dialect: Dialect) -> None:
        self.text = text
        self.dialect = dialect
        self.tokens = tokenize(text, dialect)
        self.pos = 0
        self.depth = 0
        self.templates: list[Template] = []

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def is_op(self, token: Token) -> bool:
        return token.kind == "symbol" or (token.kind == "name" and token.text in self.dialect.words)

    def fail(self, what: str, token: Token | None = None) -> FormulaInvalid:
        token = token or self.token
        at = "the end" if token.kind == "end" else f"{token.text!r} at position {token.pos}"
        return FormulaInvalid(f"{what} ({at})")

    def expect(self, text: str) -> None:
        if not (self.is_op(self.token) and self.token.text == text):
            raise self.fail(f"expected {text!r}")
        self.advance()

    def parse(self) -> Node:
        node = self.expression()
        if self.token.kind != "end":
            raise self._trailing()
        return node

    def _trailing(self) -> FormulaInvalid:
        token = self.token
        if token.kind in ("number", "name", "placeholder", "string") or token.text == "(":
            if self.dialect.name == MATHJS:
                return self.fail("implicit multiplication is not supported: write *")
        return self.fail("unexpected")

    def expression(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH}")
        node = self.conditional()
        self.depth -= 1
        return node

    def conditional(self) -> Node:
        test = self.binary(0)
        if self.is_op(self.token) and self.token.text == "?":
            self.advance()
            then = self.expression()
            self.expect(":")
            return Cond(test, then, self.expression())
        return test

    def binary(self, minimum: int) -> Node:
        left = self.unary()
        while self.is_op(self.token) and self.token.text in self.dialect.binary:
            op = self.token.text
            precedence, right = self.dialect.binary[op]
            if precedence < minimum:
                break
            if op in self.dialect.chains:
                left = self.chain(left, precedence)
                continue
            self.advance()
            if op == "%" and not self.starts_operand():
                raise self.fail("a percentage (x%) is not supported: write x / 100")
            operand = self.binary(precedence if right else precedence + 1)
            left = Binary(op, left, operand)
        return left

    def chain(self, first: Node, precedence: int) -> Node:
        ops: list[str] = []
        operands = [first]
        while self.is_op(self.token) and self.token.text in self.dialect.chains:
            ops.append(self.advance().text)
            operands.append(self.binary(precedence + 1))
        if len(ops) == 1:
            return Binary(ops[0], operands[0], operands[1])
        return Chain(tuple(ops), tuple(operands))

    def starts_operand(self) -> bool:
        token = self.token
        if token.kind in ("number", "string", "placeholder"):
            return True
        if token.kind == "name":
            return token.text not in self.dialect.words or token.text in self.dialect.unary
        return token.text == "(" or token.text in self.dialect.unary

    def unary(self, allow_power: bool = True) -> Node:
        token = self.token
        if self.is_op(token) and token.text in self.dialect.unary:
            self.advance()
            # math.js: -2^2 is -(2^2); JavaScript refuses -2 ** 2 (write (-2) ** 2).
            javascript = self.dialect.name == FORMULAJS
            operand = self.unary(allow_power=not javascript)
            if javascript and self.is_op(self.token) and self.token.text == "**":
                raise self.fail("a unary operator before ** needs parentheses")
            return Unary(token.text, operand)
        return self.power(allow_power)

    def power(self, allow: bool = True) -> Node:
        base = self.postfix(self.primary())
        power = self.dialect.power
        if allow and self.is_op(self.token) and self.token.text == power:
            self.advance()
            exponent = self.unary() if self.dialect.name == MATHJS else self.binary(POWER)
            return Binary(power, base, exponent)
        return base

    def postfix(self, node: Node) -> Node:
        while self.is_op(self.token):
            text = self.token.text
            if text == "??" and self.dialect.name == MATHJS:
                self.advance()
                node = Binary("??", node, self.postfix(self.primary()))
            elif text == "." and self.dialect.name == FORMULAJS:
                self.advance()
                if self.token.text != "length" or self.tokens[self.pos + 1].text == "(":
                    raise self.fail("only .length is supported after a value")
                self.advance()
                node = Length(node)
            elif text in ("!", "'", "[", "."):
                raise self.fail(_UNSUPPORTED_POSTFIX.get(text, "unsupported"))
            else:
                break
        return node

    def primary(self) -> Node:
        token = self.advance()
        if token.kind == "number":
            return Const(_number(token.text))
        if token.kind == "string":
            return Const(_unescape(token.text))
        if token.kind == "placeholder":
            return self.variable(token)
        if token.kind == "name":
            return self.name(token)
        if token.text == "(":
            node = self.expression()
            self.expect(")")
            return node
        if token.text == "[":
            raise self.fail("list literals are not supported: put the list in a placeholder", token)
        raise self.fail("expected a value", token)

    def variable(self, token: Token) -> Var:
        try:
            self.templates.append(compile_template(token.text))
        except TemplateError as exc:
            raise FormulaInvalid(str(exc)) from exc
        return Var(len(self.templates) - 1)

    def name(self, token: Token) -> Node:
        if token.text in self.dialect.constants:
            return Const(self.dialect.constants[token.text])
        if self.token.text == "(":
            if token.text not in self.dialect.functions:
                names = ", ".join(sorted(self.dialect.functions))
                raise self.fail(
                    f"the function {token.text} is not supported; supported: {names}", token
                )
            self.advance()
            return Call(token.text, self.arguments())
        raise self.fail(
            f"{token.text!r} is not a value the gateway knows: request data and node results"
            " are placeholders such as {{$context.body.amount}}",
            token,
        )

    def arguments(self) -> tuple[Node, ...]:
        args: list[Node] = []
        if self.is_op(self.token) and self.token.text == ")":
            self.advance()
            return ()
        while True:
            args.append(self.expression())
            if self.is_op(self.token) and self.token.text == ",":
                self.advance()
                continue
            self.expect(")")
            return tuple(args)


_UNSUPPORTED_POSTFIX = {
    "!": "factorial is not supported",
    "'": "transpose is not supported",
    "[": "indexing is not supported: put the index in the placeholder ({{$context.body.items.0}})",
    ".": "property access is not supported: put the path in the placeholder",
}


def _number(text: str) -> int | float:
    if text[:2].lower() in ("0x", "0o", "0b"):
        base = {"0x": 16, "0o": 8, "0b": 2}[text[:2].lower()]
        try:
            return int(text[2:], base)
        except ValueError:
            raise FormulaInvalid(f"{text!r} is not a number") from None
    value = float(text)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


# --- compiled expressions -----------------------------------------------------------------

Evaluator = Callable[[Node, tuple[Any, ...]], Any]


@dataclass(frozen=True, slots=True)
class Formula:
    """A parsed expression and the templates bound to its placeholders."""

    engine: str
    source: str
    tree: Node
    templates: tuple[Template, ...]
    evaluator: Evaluator

    def evaluate(self, scope: Scope) -> Any:
        """The expression's value, post-processed as NocoBase does; `NodeFailure` when the
        engine would throw (or the gateway cannot match it, saying why)."""
        values = tuple(t.render(scope) for t in self.templates)
        return self.evaluator(self.tree, values)


def parse_formula(text: str, dialect: Dialect, evaluator: Evaluator) -> Formula:
    """Parse `text` in `dialect`; `FormulaInvalid` says what is not supported."""
    if len(text) > MAX_LENGTH:
        raise FormulaInvalid(f"longer than {MAX_LENGTH} characters")
    try:
        parser = _Parser(text, dialect)
        tree = parser.parse()
    except RecursionError:
        raise FormulaInvalid(f"nested deeper than {MAX_DEPTH}") from None
    return Formula(dialect.name, text, tree, tuple(parser.templates), evaluator)
