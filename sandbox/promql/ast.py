"""Our own PromQL syntax tree, converted once from `promql_parser`'s.

Converting up front lets the engine walk plain Python objects, and lets every
construct the sandbox does not evaluate be refused before evaluation starts,
with a message that names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import promql_parser as pp

from sandbox.promql.errors import BadData, Unsupported


@dataclass(frozen=True)
class Matcher:
    """One label matcher; `regex` is compiled for =~ and !~ (anchored, as Prometheus does)."""

    op: str  # = != =~ !~
    name: str
    value: str
    regex: re.Pattern[str] | None = None

    def matches(self, value: str) -> bool:
        """Whether a label value (\"\" when absent) satisfies the matcher."""
        match self.op:
            case "=":
                return value == self.value
            case "!=":
                return value != self.value
            case "=~":
                return self.regex is not None and self.regex.fullmatch(value) is not None
            case _:
                return self.regex is None or self.regex.fullmatch(value) is None


@dataclass(frozen=True)
class At:
    """An `@` modifier: a fixed time in ms, or the query's start() / end()."""

    kind: str  # "at" | "start" | "end"
    ms: int = 0


@dataclass
class Selector:
    """A vector selector, or a matrix selector when `range_ms` is set."""

    text: str
    matchers: list[Matcher]
    offset_ms: int = 0
    at: At | None = None
    range_ms: int | None = None


@dataclass
class Number:
    """A number literal."""

    value: float


@dataclass
class StringLit:
    """A string literal."""

    value: str


@dataclass
class Call:
    """A function call."""

    name: str
    args: list[Node]


@dataclass
class Aggregate:
    """An aggregation; `by` is True for `by`, False for `without`, None for neither."""

    op: str
    expr: Node
    param: Node | None = None
    by: bool | None = None
    labels: list[str] = field(default_factory=list)


@dataclass
class Binary:
    """A binary operation with its vector-matching modifiers."""

    op: str
    lhs: Node
    rhs: Node
    return_bool: bool = False
    card: str = "one-to-one"  # one-to-one | many-to-one | one-to-many | many-to-many
    on: bool = False
    matching: list[str] = field(default_factory=list)
    include: list[str] = field(default_factory=list)


@dataclass
class Negate:
    """Unary minus."""

    expr: Node


@dataclass
class Paren:
    """Parentheses (kept: absent() and timestamp() look through them differently)."""

    expr: Node


@dataclass
class Subquery:
    """`expr[range:step]`: the inner expression evaluated at aligned steps (None: the default)."""

    expr: Node
    range_ms: int
    step_ms: int | None = None
    offset_ms: int = 0
    at: At | None = None


Node = Selector | Number | StringLit | Call | Aggregate | Binary | Negate | Paren | Subquery

_MATCH_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}
_CARD = {
    "OneToOne": "one-to-one",
    "ManyToOne": "many-to-one",
    "OneToMany": "one-to-many",
    "ManyToMany": "many-to-many",
}


def _enum(value: object) -> str:
    """The member name of one of promql_parser's enums (they print as `Type.Member`)."""
    return str(value).rsplit(".", 1)[-1]


def _ms(delta: timedelta | None) -> int:
    if delta is None:
        return 0
    return round(delta.total_seconds() * 1000)


def parse(query: str) -> Node:
    """Parse a PromQL query, raising BadData (syntax) or Unsupported (valid but not evaluated)."""
    try:
        expr = pp.parse(query)
    except ValueError as exc:
        raise BadData(f'invalid parameter "query": parse error: {exc}') from exc
    return _convert(expr)


def _selector(vs: pp.VectorSelector, range_ms: int | None) -> Selector:
    if vs.matchers.or_matchers:
        raise Unsupported("the 'or' operator inside a selector's braces")
    matchers = []
    if vs.name:
        matchers.append(Matcher("=", "__name__", vs.name))
    for m in vs.matchers.matchers:
        op = _MATCH_OPS[_enum(m.op)]
        regex = None
        if op in ("=~", "!~"):
            try:
                regex = re.compile(m.value)
            except re.error as exc:
                raise BadData(f"invalid regular expression {m.value!r}: {exc}") from exc
        matchers.append(Matcher(op, m.name, m.value, regex))
    return Selector(str(vs), matchers, _ms(vs.offset), _at(vs.at), range_ms)


def _at(at: pp.AtModifier | None) -> At | None:
    if at is None:
        return None
    kind = _enum(at.type)
    if kind == "At":
        return At("at", round(at.at.timestamp() * 1000))
    return At(kind.lower())


def _convert(e: object) -> Node:
    if isinstance(e, pp.NumberLiteral):
        return Number(float(e.val))
    if isinstance(e, pp.StringLiteral):
        return StringLit(e.val)
    if isinstance(e, pp.VectorSelector):
        return _selector(e, None)
    if isinstance(e, pp.MatrixSelector):
        return _selector(e.vector_selector, _ms(e.range))
    if isinstance(e, pp.ParenExpr):
        return Paren(_convert(e.expr))
    if isinstance(e, pp.UnaryExpr):
        return Negate(_convert(e.expr))
    if isinstance(e, pp.Call):
        return Call(e.func.name, [_convert(a) for a in e.args])
    if isinstance(e, pp.AggregateExpr):
        mod = e.modifier
        by = None if mod is None else _enum(mod.type) == "By"
        return Aggregate(
            str(e.op),
            _convert(e.expr),
            None if e.param is None else _convert(e.param),
            by,
            list(mod.labels) if mod is not None else [],
        )
    if isinstance(e, pp.BinaryExpr):
        return _binary(e)
    if isinstance(e, pp.SubqueryExpr):
        return Subquery(
            _convert(e.expr),
            _ms(e.range),
            _ms(e.step) or None,
            _ms(e.offset),
            _at(e.at),
        )
    raise Unsupported(f"the expression {type(e).__name__}")


def _binary(e: pp.BinaryExpr) -> Binary:
    op = str(e.op)
    node = Binary(op, _convert(e.lhs), _convert(e.rhs))
    if op in ("and", "or", "unless"):
        node.card = "many-to-many"
    mod = e.modifier
    if mod is None:
        return node
    fill = getattr(mod, "fill_values", None)
    if fill is not None and (fill.lhs is not None or fill.rhs is not None):
        raise Unsupported("fill values in vector matching")
    node.return_bool = bool(mod.return_bool)
    if mod.card is not None:
        node.card = _CARD[_enum(mod.card)]
    if mod.matching is not None:
        node.on = _enum(mod.matching.type) == "Include"
        node.matching = list(mod.matching.labels)
    node.include = list(mod.group_labels or [])
    return node
