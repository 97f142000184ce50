"""A small, safe evaluator for Argo Rollouts conditions such as `isNaN(result) || result > 1`.

A tokenizer and a recursive-descent parser build a tree of tuples; evaluation walks it
with Go's float semantics (every comparison with NaN is false except !=). Nothing is ever
passed to Python's eval, and only `result` and a few pure functions are visible.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

MAX_LENGTH = 2000
MAX_DEPTH = 64

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<str>'[^'\\]*'|\"[^\"\\]*\")"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|[<>!+\-*/%()\[\],]))"
)
_WORDS = {"and": "&&", "or": "||", "not": "!"}
_COMPARE = {"==", "!=", "<", "<=", ">", ">="}


class ExpressionError(ValueError):
    """The condition cannot be parsed or evaluated (Argo marks the measurement Error)."""


def _as_float(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise ExpressionError(f"expected a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ExpressionError(f"cannot read {value!r} as a number") from None


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "isNaN": lambda v: math.isnan(_as_float(v)),
    "isInf": lambda v: math.isinf(_as_float(v)),
    "len": lambda v: len(v) if isinstance(v, (list, tuple, str)) else _bad("len", v),
    "abs": lambda v: abs(_as_float(v)),
    "asFloat": _as_float,
    "asInt": lambda v: float(int(_as_float(v))),
    "default": lambda v, fallback: fallback if v is None else v,
}


def _bad(name: str, value: object) -> Any:
    raise ExpressionError(f"{name}() does not apply to {value!r}")


def tokenize(text: str) -> list[str]:
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"condition longer than {MAX_LENGTH} characters")
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            if text[pos:].strip():
                raise ExpressionError(f"unexpected {text[pos : pos + 10]!r} at {pos}")
            break
        token = match.group(match.lastgroup or "op")
        tokens.append(_WORDS.get(token, token))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.pos, self.depth = tokens, 0, 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise ExpressionError(f"expected {expected or 'more'}, got {token or 'the end'}")
        self.pos += 1
        return token

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError("condition nested too deeply")

    def expression(self) -> tuple[Any, ...]:
        self.nest()
        node = self.binary(0)
        self.depth -= 1
        return node

    LEVELS = (("||",), ("&&",), tuple(_COMPARE), ("+", "-"), ("*", "/", "%"))

    def binary(self, level: int) -> tuple[Any, ...]:
        if level == len(self.LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek() in self.LEVELS[level]:
            op = self.take()
            node = ("op", op, node, self.binary(level + 1))
            if op in _COMPARE and self.peek() in _COMPARE:
                raise ExpressionError("comparisons cannot be chained; join them with &&")
        return node

    def unary(self) -> tuple[Any, ...]:
        if self.peek() in ("!", "-", "+"):
            op = self.take()
            self.nest()
            node = ("unary", op, self.unary())
            self.depth -= 1
            return node
        return self.postfix()

    def postfix(self) -> tuple[Any, ...]:
        node = self.primary()
        while self.peek() in ("[", "("):
            if self.take() == "[":
                node = ("index", node, self.expression())
                self.take("]")
            else:
                if node[0] != "var" or node[1] not in FUNCTIONS:
                    raise ExpressionError("only isNaN, isInf, len, abs, asFloat, asInt, default")
                args = [] if self.peek() == ")" else [self.expression()]
                while self.peek() == ",":
                    self.take()
                    args.append(self.expression())
                self.take(")")
                node = ("call", node[1], args)
        return node

    def primary(self) -> tuple[Any, ...]:
        token = self.take()
        if token == "(":
            node = self.expression()
            self.take(")")
            return node
        if token[0].isdigit() or token[0] == ".":
            return ("const", float(token))
        if token[0] in "'\"":
            return ("const", token[1:-1])
        if token in ("true", "false"):
            return ("const", token == "true")
        if token in ("nil", "null"):
            return ("const", None)
        if token[0].isalpha() or token[0] == "_":
            return ("var", token)
        raise ExpressionError(f"unexpected {token!r}")


def parse(text: str) -> tuple[Any, ...]:
    """The condition's tree; ExpressionError when it is not valid."""
    parser = _Parser(tokenize(text))
    if parser.peek() is None:
        raise ExpressionError("empty condition")
    node = parser.expression()
    if parser.peek() is not None:
        raise ExpressionError(f"unexpected {parser.peek()!r} after the condition")
    return node


def _truth(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ExpressionError(f"expected true or false, got {value!r}")
    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return type(value).__name__
    return "number"


def _compare(op: str, a: Any, b: Any) -> bool:
    if _kind(a) != "number" or _kind(b) != "number":
        if op not in ("==", "!="):
            raise ExpressionError(f"cannot order {a!r} and {b!r}")
        same = _kind(a) == _kind(b) and a == b  # no coercion: true is not 1
        return same == (op == "==")
    x, y = _as_float(a), _as_float(b)
    return {
        "==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y
    }[op]  # fmt: skip


def _arithmetic(op: str, x: float, y: float) -> float:
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if y == 0:  # Go float division: no exception, an infinity or NaN
        return math.nan if x == 0 or math.isnan(x) or op == "%" else math.copysign(math.inf, x)
    return x / y if op == "/" else math.fmod(x, y)


def evaluate(node: tuple[Any, ...], env: Mapping[str, Any]) -> Any:
    kind = node[0]
    if kind == "const":
        return node[1]
    if kind == "var":
        if node[1] not in env:
            raise ExpressionError(f"unknown name {node[1]!r}")
        return env[node[1]]
    if kind == "unary":
        value = evaluate(node[2], env)
        return (
            (not _truth(value))
            if node[1] == "!"
            else (-_as_float(value) if node[1] == "-" else _as_float(value))
        )
    if kind == "index":
        seq, index = evaluate(node[1], env), _as_float(evaluate(node[2], env))
        if not isinstance(seq, (list, tuple)) or not index.is_integer():
            raise ExpressionError("only a list can be indexed, by a whole number")
        if not -len(seq) <= index < len(seq):
            raise ExpressionError(f"index {int(index)} out of range for {len(seq)} values")
        return seq[int(index)]
    if kind == "call":
        return FUNCTIONS[node[1]](*(evaluate(arg, env) for arg in node[2]))
    op, left = node[1], node[2]
    if op == "&&":
        return _truth(evaluate(left, env)) and _truth(evaluate(node[3], env))
    if op == "||":
        return _truth(evaluate(left, env)) or _truth(evaluate(node[3], env))
    a, b = evaluate(left, env), evaluate(node[3], env)
    if op in _COMPARE:
        return _compare(op, a, b)
    return _arithmetic(op, _as_float(a), _as_float(b))


def condition(text: str, result: Any) -> bool:
    """Evaluate a condition for one measurement's `result`; it must yield true or false."""
    try:
        return _truth(evaluate(parse(text), {"result": result}))
    except (TypeError, IndexError, OverflowError) as exc:
        raise ExpressionError(str(exc)) from None
