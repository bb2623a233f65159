"""CQL2 arithmetic (``+ - * / % div ^``) on numbers, as both backends compute it.

Dividing by zero gives NULL (no match) rather than an error; ``%`` keeps fractions and
``div`` truncates toward zero, as on PostgreSQL.
"""

from __future__ import annotations

import operator
from typing import Any

from sqlalchemy import Float, Integer, Numeric, cast, func

_PLAIN = {"+": operator.add, "-": operator.sub, "*": operator.mul}


def arithmetic(op: str, left: Any, right: Any, backend: str) -> Any:
    left, right = cast(left, Float), cast(right, Float)
    if op in _PLAIN:
        return _PLAIN[op](left, right)
    if op == "^":
        return func.power(left, right)
    right = func.nullif(right, 0)
    if op == "/":
        return left / right
    if op == "div":
        return cast(left / right, Integer) if backend == "sqlite" else func.trunc(left / right)
    if backend == "postgresql":  # no % for double precision
        return cast(func.mod(cast(left, Numeric), cast(right, Numeric)), Float)
    return left - right * cast(left / right, Integer)
