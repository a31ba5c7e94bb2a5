"""Filter operators of spec §3.4, looked up by exact name: the SQL predicate each builds, and its Python twin.

An array value means "any of" for ``is``/``contains``/``matches`` and "none of" for the
negated forms. ``contains`` compares with simple Unicode lowercasing on both sides;
``matches`` is an unanchored, case-sensitive RE2 search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import re2
from sqlglot import exp

from clickport.limits import MAX_PATTERN_LENGTH  # noqa: F401  (re-exported)

Test = Literal["equals", "contains", "regex"]


@dataclass(frozen=True)
class Operator:
    name: str
    test: Test
    negated: bool = False

    def predicate(self, shown: exp.Expression, values: Sequence[str]) -> exp.Expression:
        """SQL that holds when the shown value passes this filter (values only as literals)."""
        if self.test == "equals":
            matched: exp.Expression = exp.In(this=shown, expressions=[exp.Literal.string(v) for v in values])
        else:
            matched = _any(_single(self.test, shown, v) for v in values)
        return exp.Not(this=exp.Paren(this=matched)) if self.negated else matched

    def holds(self, shown: str, values: Sequence[str]) -> bool:
        """The same test in Python (used for goal names, which are known before the query runs)."""
        if self.test == "equals":
            matched = shown in values
        elif self.test == "contains":
            matched = any(simple_lower(v) in simple_lower(shown) for v in values)
        else:
            matched = any(compile_pattern(v).search(shown) is not None for v in values)
        return not matched if self.negated else matched


def _single(test: Test, shown: exp.Expression, value: str) -> exp.Expression:
    if test == "contains":
        position = exp.StrPosition(this=exp.Lower(this=shown), substr=exp.Lower(this=exp.Literal.string(value)))
        return exp.GT(this=position, expression=exp.Literal.number(0))
    return exp.RegexpLike(this=shown, expression=exp.Literal.string(value))


def _any(parts) -> exp.Expression:
    parts = list(parts)
    result = parts[0]
    for part in parts[1:]:
        result = exp.Or(this=result, expression=part)
    return exp.Paren(this=result) if len(parts) > 1 else result


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("is", "equals"),
        Operator("is_not", "equals", negated=True),
        Operator("contains", "contains"),
        Operator("not_contains", "contains", negated=True),
        Operator("matches", "regex"),
        Operator("not_matches", "regex", negated=True),
    )
}
OPERATOR_NAMES: tuple[str, ...] = tuple(OPERATORS)


def lookup_operator(name: str) -> Operator:
    """The operator called exactly ``name``; ``KeyError`` otherwise."""
    return OPERATORS[name]


def _re2_options() -> "re2.Options":
    options = re2.Options()
    options.log_errors = False
    return options


_OPTIONS = _re2_options()


def compile_pattern(pattern: str):
    """Compile with RE2; raises ``ValueError`` with RE2's reason when RE2 rejects the pattern."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(str(reason)) from None


def simple_lower(text: str) -> str:
    """Simple (one-to-one) Unicode lowercasing, as SQL ``lower`` does: no final-sigma rule, İ → i."""
    out = []
    for char in text:
        lowered = char.lower()
        out.append(lowered if len(lowered) == 1 else lowered[0])
    return "".join(out)
