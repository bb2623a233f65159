"""Tokens of the CQL2 text encoding; positions index the filter text for error messages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cityhub.errors import QuerySyntaxError
from cityhub.features.cql2 import literals

_WHITESPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"(?:[^\W\d]|:)[\w.:]*")
_OPERATORS = ("<>", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%", "^", "(", ")", ",")
_WKT_TYPES = frozenset(
    {
        "POINT",
        "LINESTRING",
        "POLYGON",
        "MULTIPOINT",
        "MULTILINESTRING",
        "MULTIPOLYGON",
        "GEOMETRYCOLLECTION",
    }
)
_WKT_START = re.compile(r"\s*(?:ZM|Z|M)?\s*\(", re.IGNORECASE)


@dataclass(frozen=True)
class Token:
    kind: str  # "string", "number", "ident", "quoted", "wkt", "eof" or the operator itself
    text: str
    pos: int
    value: object = None

    @property
    def word(self) -> str:
        """An identifier's text in capitals, for keywords; '' for other tokens."""
        return self.text.upper() if self.kind == "ident" else ""


class Lexer:
    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, message: str, pos: int) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.text, pos)

    def tokens(self) -> list[Token]:
        tokens: list[Token] = []
        pos = 0
        while True:
            space = _WHITESPACE.match(self.text, pos)
            if space:
                pos = space.end()
            if pos >= len(self.text):
                tokens.append(Token("eof", "", len(self.text)))
                return tokens
            token = self._next(pos)
            tokens.append(token)
            pos = token.pos + len(token.text)

    def _next(self, pos: int) -> Token:
        char = self.text[pos]
        if char in "'\"":
            value, end = self._quoted(pos, char)
            return Token("string" if char == "'" else "quoted", self.text[pos:end], pos, value)
        number = _NUMBER.match(self.text, pos)
        if number:
            return self._number(pos, number.group())
        for operator in _OPERATORS:
            if self.text.startswith(operator, pos):
                return Token(operator, operator, pos)
        ident = _IDENT.match(self.text, pos)
        if ident:
            if ident.group().upper() in _WKT_TYPES and _WKT_START.match(self.text, ident.end()):
                return self._wkt(pos, ident.end())
            return Token("ident", ident.group(), pos)
        raise self.fail(f"unexpected character {char!r}", pos)

    def _quoted(self, pos: int, quote: str) -> tuple[str, int]:
        """A quoted string or name; a doubled quote stands for one."""
        chars: list[str] = []
        index = pos + 1
        while index < len(self.text):
            char = self.text[index]
            if char == quote:
                if self.text.startswith(quote, index + 1):
                    chars.append(quote)
                    index += 2
                    continue
                return self._checked("".join(chars), pos), index + 1
            chars.append(char)
            index += 1
        what = "string" if quote == "'" else "quoted property name"
        raise self.fail(f"unterminated {what}", pos)

    def _checked(self, value: str, pos: int) -> str:
        try:
            return literals.string(value)
        except ValueError as exc:
            raise self.fail(str(exc), pos) from None

    def _number(self, pos: int, text: str) -> Token:
        end = pos + len(text)
        if end < len(self.text) and (self.text[end].isalnum() or self.text[end] in "_.:"):
            raise self.fail("invalid number", pos)
        value = float(text) if any(c in text for c in ".eE") else int(text)
        try:
            return Token("number", text, pos, literals.number(value))
        except ValueError as exc:
            raise self.fail(str(exc), pos) from None

    def _wkt(self, pos: int, keyword_end: int) -> Token:
        """A WKT geometry: the keyword up to the parenthesis closing its coordinates."""
        index = _WKT_START.match(self.text, keyword_end).end()  # type: ignore[union-attr]
        depth = 1
        while depth and index < len(self.text):
            depth += {"(": 1, ")": -1}.get(self.text[index], 0)
            index += 1
        if depth:
            raise self.fail("unterminated geometry: missing ')'", pos)
        source = self.text[pos:index]
        try:
            geojson = literals.wkt(source)
        except ValueError as exc:
            raise self.fail(str(exc), pos) from None
        return Token("wkt", source, pos, geojson)
