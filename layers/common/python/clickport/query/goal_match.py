"""Goal matching at query time (spec §7): one SQL predicate per goal type, registered by type name.

Goals apply to past data because they match when the query runs. Every predicate is
NULL-free (a missing property never matches), so negated goal filters stay exact.
"""

from __future__ import annotations

from typing import Any, Callable

from sqlglot import exp

from clickport.ports import Goal
from clickport.query.expressions import SqlDialect, and_all, col, fn, lit
from clickport.query.filters import simple_lower

# The host of a URL: after "scheme://", past any "user@", up to "/", "?", "#" or ":".
HOST_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#]*@)?([^/?#:@]*)"
LIKE_ESCAPE = "\\"

Matcher = Callable[[dict[str, Any], str | None, SqlDialect], exp.Expression | None]


def like_pattern(path_pattern: str) -> str:
    """A goal path pattern as a LIKE pattern: ``*`` is any run of characters, the rest is literal."""
    escaped = (
        path_pattern.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    )
    return escaped.replace("*", "%")


def strip_www(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def _text(definition: dict[str, Any], key: str) -> str | None:
    value = definition.get(key)
    return value if isinstance(value, str) and value else None


def _type_is(name: str, alias: str | None) -> exp.Expression:
    return exp.EQ(this=col("type", alias), expression=lit(name))


def _prop(key: str, alias: str | None, dialect: SqlDialect) -> exp.Expression:
    return dialect.prop_value(col("meta_keys", alias), col("meta_values", alias), key)


def _pageview(definition: dict[str, Any], alias: str | None, dialect: SqlDialect) -> exp.Expression | None:
    pattern = _text(definition, "path")
    if pattern is None:
        return None
    path = col("path", alias)
    if "*" not in pattern:
        matched: exp.Expression = exp.EQ(this=path, expression=lit(pattern))
    else:
        like = exp.Like(this=path, expression=lit(like_pattern(pattern)))
        matched = exp.Escape(this=like, expression=lit(LIKE_ESCAPE))
    return and_all([_type_is("pageview", alias), matched])


def _custom(definition: dict[str, Any], alias: str | None, dialect: SqlDialect) -> exp.Expression | None:
    event = _text(definition, "event")
    if event is None:
        return None
    parts = [_type_is("custom", alias), exp.EQ(this=col("name", alias), expression=lit(event))]
    prop = definition.get("prop")
    if prop is not None:
        if not (isinstance(prop, (list, tuple)) and len(prop) == 2 and all(isinstance(p, str) for p in prop)):
            return None
        parts.append(exp.EQ(this=_prop(prop[0], alias, dialect), expression=lit(prop[1])))
    return and_all(parts)


def url_host(url: exp.Expression, dialect: SqlDialect) -> exp.Expression:
    """Lowercase host of ``url`` without a leading ``www.``; '' when the URL has none."""
    host = fn("coalesce", fn("regexp_extract", url, lit(HOST_PATTERN), lit(1)), lit(""))
    return fn("regexp_replace", exp.Lower(this=host), lit(r"^www\."), lit(""))


def _click(definition: dict[str, Any], alias: str | None, dialect: SqlDialect) -> exp.Expression | None:
    if (url := _text(definition, "url")) is not None:
        matched = exp.EQ(this=_prop("click_url", alias, dialect), expression=lit(url))
    elif (domain := _text(definition, "domain")) is not None:
        host = url_host(_prop("click_url", alias, dialect), dialect)
        matched = exp.EQ(this=host, expression=lit(strip_www(simple_lower(domain))))
    elif (text := _text(definition, "text")) is not None:
        matched = exp.EQ(this=_prop("click_text", alias, dialect), expression=lit(text))
    else:
        return None
    return and_all([_type_is("click", alias), matched])


def _form(definition: dict[str, Any], alias: str | None, dialect: SqlDialect) -> exp.Expression | None:
    for key in ("form_id", "form_name"):
        if (value := _text(definition, key)) is not None:
            matched = exp.EQ(this=_prop(key, alias, dialect), expression=lit(value))
            return and_all([_type_is("form", alias), matched])
    return None


GOAL_MATCHERS: dict[str, Matcher] = {
    "pageview": _pageview,
    "custom": _custom,
    "click": _click,
    "form": _form,
}


def goal_predicate(goal: Goal, alias: str | None, dialect: SqlDialect) -> exp.Expression:
    """SQL that is TRUE for an event matching ``goal`` and FALSE otherwise (never NULL).

    A goal of an unknown type or with a malformed definition matches nothing.
    """
    matcher = GOAL_MATCHERS.get(goal.type)
    definition = goal.definition if isinstance(goal.definition, dict) else {}
    predicate = matcher(definition, alias, dialect) if matcher else None
    if predicate is None:
        return exp.false()
    return fn("coalesce", exp.Paren(this=predicate), exp.false())
