"""The CQL2 text encoding (``filter-lang=cql2-text``) parsed into the syntax tree.

Keywords are case-insensitive; property names are identifiers or double-quoted (``"Straße"``,
``"Baujahr ab"``). Errors are ``QuerySyntaxError``s pointing at the position in the filter.
"""

from __future__ import annotations

from collections.abc import Callable

from cityhub.errors import QuerySyntaxError
from cityhub.features.cql2 import literals
from cityhub.features.cql2.lexer import Lexer, Token
from cityhub.features.cql2.nodes import (
    COMPARISONS,
    SPATIAL,
    TEMPORAL,
    DateLiteral,
    Geometry,
    Interval,
    ListOf,
    Literal,
    Node,
    Op,
    Property,
    Timestamp,
    fixed_arity,
)

__all__ = ["parse_text"]

_FUNCTIONS = frozenset({*SPATIAL, *TEMPORAL, "s_dwithin", "casei", "accenti"})
_RESERVED = frozenset({"AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "DIV"})
_ADDITIVE = {"+": "+", "-": "-"}
_MULTIPLICATIVE = {"*": "*", "/": "/", "%": "%", "DIV": "div"}


class _Parser:
    """Recursive descent: OR < AND < NOT < predicates < + - < * / % div < ^ < unary minus."""

    def __init__(self, text: str) -> None:
        self.lexer = Lexer(text)
        self.tokens = self.lexer.tokens()
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.current
        if token.kind != "eof":
            self.index += 1
        return token

    def fail(self, message: str, pos: int) -> QuerySyntaxError:
        return self.lexer.fail(message, pos)

    def expect(self, kind: str) -> Token:
        if self.current.kind != kind:
            raise self.unexpected(f"expected '{kind}'")
        return self.advance()

    def keyword(self, word: str) -> bool:
        """Consume the keyword ``word`` if it comes next."""
        if self.current.word == word:
            self.advance()
            return True
        return False

    def unexpected(self, expectation: str) -> QuerySyntaxError:
        token = self.current
        if token.kind == "eof":
            return self.fail(f"unexpected end of filter, {expectation}", token.pos)
        return self.fail(f"unexpected '{token.text}', {expectation}", token.pos)

    def parse(self) -> Node:
        if self.current.kind == "eof":
            raise self.fail("empty filter", 0)
        node = self.disjunction()
        if self.current.kind != "eof":
            raise self.unexpected("expected AND, OR or the end of the filter")
        return node

    def nested(self) -> None:
        self.depth += 1
        if self.depth > literals.MAX_DEPTH:
            raise self.fail("filter nested too deeply", self.current.pos)

    # --- booleans ---------------------------------------------------------------------------

    def disjunction(self) -> Node:
        return self._logical("OR", self.conjunction)

    def conjunction(self) -> Node:
        return self._logical("AND", self.negation)

    def _logical(self, word: str, operand: Callable[[], Node]) -> Node:
        first = self.current.pos
        args = [operand()]
        while self.keyword(word):
            args.append(operand())
        if len(args) == 1:
            return args[0]
        return literals.logical(word.lower(), args, f"position {first}")

    def negation(self) -> Node:
        token = self.current
        if self.keyword("NOT"):
            self.nested()
            operand = self.negation()
            self.depth -= 1
            return Op("not", (operand,), f"position {token.pos}")
        return self.predicate()

    def predicate(self) -> Node:
        left = self.additive()
        token = self.current
        if token.kind in COMPARISONS:
            self.advance()
            return Op(token.kind, (left, self.additive()), f"position {token.pos}")
        if self.keyword("IS"):
            negated = self.keyword("NOT")
            if not self.keyword("NULL"):
                raise self.unexpected("expected NULL after IS")
            return _negated(Op("isNull", (left,), f"position {token.pos}"), negated)
        negated = self.keyword("NOT")
        operator = self.current
        if operator.word not in ("LIKE", "BETWEEN", "IN"):
            if negated:
                raise self.unexpected("expected LIKE, BETWEEN or IN after NOT")
            return left
        self.advance()
        at = f"position {operator.pos}"
        if operator.word == "LIKE":
            return _negated(Op("like", (left, self.additive()), at), negated)
        if operator.word == "BETWEEN":
            low = self.additive()
            if not self.keyword("AND"):
                raise self.unexpected("expected AND between the bounds of BETWEEN")
            return _negated(Op("between", (left, low, self.additive()), at), negated)
        return _negated(Op("in", (left, self.in_list()), at), negated)

    def in_list(self) -> ListOf:
        start = self.expect("(")
        items = [self.additive()]
        while self.current.kind == ",":
            self.advance()
            items.append(self.additive())
        self.expect(")")
        return ListOf(tuple(items), f"position {start.pos}")

    # --- values -----------------------------------------------------------------------------

    def additive(self) -> Node:
        return self._binary(self.multiplicative, _ADDITIVE)

    def multiplicative(self) -> Node:
        return self._binary(self.power, _MULTIPLICATIVE)

    def _binary(self, operand: Callable[[], Node], operators: dict[str, str]) -> Node:
        left: Node = operand()
        while True:
            token = self.current
            op = operators.get(token.kind) or operators.get(token.word)
            if op is None:
                return left
            self.advance()
            left = Op(op, (left, operand()), f"position {token.pos}")

    def power(self) -> Node:
        base = self.unary()
        token = self.current
        if token.kind != "^":
            return base
        self.advance()
        self.nested()
        exponent = self.power()
        self.depth -= 1
        return Op("^", (base, exponent), f"position {token.pos}")

    def unary(self) -> Node:
        token = self.current
        if token.kind not in ("+", "-"):
            return self.primary()
        self.advance()
        self.nested()
        operand = self.unary()
        self.depth -= 1
        at = f"position {token.pos}"
        if token.kind == "+":
            return operand
        if isinstance(operand, Literal) and type(operand.value) in (int, float):
            return Literal(-operand.value, at)  # type: ignore[operator]
        return Op("*", (Literal(-1, at), operand), at)

    def primary(self) -> Node:
        token = self.current
        if token.kind in ("eof", ")", ",") or token.kind in COMPARISONS:
            raise self.unexpected("expected a value, a property or a predicate")
        self.advance()
        at = f"position {token.pos}"
        if token.kind in ("string", "number"):
            return Literal(token.value, at)  # type: ignore[arg-type]
        if token.kind == "quoted":
            return Property(str(token.value), at)
        if token.kind == "wkt":
            return Geometry(token.value, at)  # type: ignore[arg-type]
        if token.kind == "(":
            self.nested()
            inner = self.disjunction()
            self.depth -= 1
            self.expect(")")
            return inner
        if token.kind == "ident":
            return self.word(token, at)
        raise self.fail(f"unexpected '{token.text}', expected a value or a property", token.pos)

    def word(self, token: Token, at: str) -> Node:
        word = token.word
        if word in ("TRUE", "FALSE"):
            return Literal(word == "TRUE", at)
        if word in ("TIMESTAMP", "DATE"):
            return self.instant(token)
        if word == "INTERVAL":
            return self.interval(token)
        if word == "BBOX":
            return self.bbox(token)
        if word in _RESERVED:
            raise self.fail(f"unexpected '{token.text}', expected a value or a property", token.pos)
        if self.current.kind == "(":
            return self.call(token)
        return Property(token.text, at)

    def literal_text(self) -> Token:
        token = self.current
        if token.kind != "string":
            raise self.unexpected("expected a quoted date or time such as '2024-05-01'")
        return self.advance()

    def instant(self, keyword: Token) -> Timestamp | DateLiteral:
        self.expect("(")
        text = self.literal_text()
        self.expect(")")
        return self._instant(keyword.word, text, f"position {keyword.pos}")

    def _instant(self, kind: str, token: Token, at: str) -> Timestamp | DateLiteral:
        value = str(token.value)
        try:
            if kind == "TIMESTAMP":
                return Timestamp(literals.timestamp(value), at)
            return DateLiteral(literals.day(value), at)
        except ValueError as exc:
            raise self.fail(str(exc), token.pos) from None

    def interval(self, keyword: Token) -> Interval:
        self.expect("(")
        ends: list[Timestamp | DateLiteral | None] = []
        for index in range(2):
            if index:
                self.expect(",")
            if self.current.word in ("TIMESTAMP", "DATE"):
                ends.append(self.instant(self.advance()))
                continue
            text = self.literal_text()
            value = str(text.value)
            kind = "DATE" if len(value) == 10 else "TIMESTAMP"
            at = f"position {text.pos}"
            ends.append(None if value == ".." else self._instant(kind, text, at))
        self.expect(")")
        return Interval(ends[0], ends[1], f"position {keyword.pos}")

    def bbox(self, keyword: Token) -> Geometry:
        self.expect("(")
        values: list[float] = []
        while True:
            sign = -1 if self.current.kind == "-" else 1
            if self.current.kind in ("+", "-"):
                self.advance()
            if self.current.kind != "number":
                raise self.unexpected("expected a number of the bounding box")
            values.append(sign * self.advance().value)  # type: ignore[operator]
            if self.current.kind != ",":
                break
            self.advance()
        self.expect(")")
        try:
            return Geometry(literals.bbox(values), f"position {keyword.pos}")
        except ValueError as exc:
            raise self.fail(str(exc), keyword.pos) from None

    def call(self, name: Token) -> Op:
        op = name.text.lower()
        if op not in _FUNCTIONS:
            known = ", ".join(sorted(f.upper() for f in _FUNCTIONS))
            raise self.fail(f"unknown function '{name.text}'; known: {known}", name.pos)
        self.expect("(")
        self.nested()
        args = [self.disjunction()]
        while self.current.kind == ",":
            self.advance()
            args.append(self.disjunction())
        self.depth -= 1
        self.expect(")")
        if len(args) != fixed_arity(op):
            raise self.fail(
                f"{name.text} takes {fixed_arity(op)} arguments, got {len(args)}", name.pos
            )
        if op == "s_dwithin" and isinstance(args[3], Property):  # the unit: meters
            args[3] = Literal(args[3].name.lower(), args[3].at)
        return Op(op, tuple(args), f"position {name.pos}")


def _negated(node: Op, negated: bool) -> Node:
    return Op("not", (node,), node.at) if negated else node


def parse_text(expression: str) -> Node:
    """Parse a CQL2 text filter; a ``QuerySyntaxError`` (400) points at what is wrong."""
    return _Parser(expression).parse()
