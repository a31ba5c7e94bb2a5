"""A JSON body parsed once under the limits every request shares: depth, number length, valid Unicode.

Python's parser recurses once per nesting level and converts integers of any length, so a
deeply nested body or a 5,000-digit number would end in an exception deep inside the parser;
here each is one ``JsonRejected`` (naming the field where there is one), raised before anything else
sees the body. The HTTP resolver and ``clickport import`` both parse with it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from clickport.limits import MAX_JSON_DEPTH, MAX_NUMBER_CHARS

_TOKENS = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')  # strings (skipped) and brackets
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonRejected(ValueError):
    """The text is not JSON the API accepts. ``field`` names the value at fault (None: the text as a whole);
    the message is for a person."""

    def __init__(self, message: str, field: str | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.detail = detail  # where the parser stopped, for invalid JSON


NOT_JSON = "not JSON"


class _LongNumber:
    """Stands for a number literal longer than ``MAX_NUMBER_CHARS`` (never converted)."""


_LONG = _LongNumber()


def _too_deep(text: str) -> bool:
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False  # the common case: no scan needed
    depth = 0
    for token in _TOKENS.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _not_json(constant: str) -> Any:
    raise JsonRejected(f"not JSON: {constant} is not a JSON number")


def parse_json(text: str) -> Any:
    """The JSON value of ``text``; ``JsonRejected`` for invalid JSON, a body nested deeper than
    ``MAX_JSON_DEPTH``, a number longer than ``MAX_NUMBER_CHARS`` or text that is not valid Unicode.

    Without ``field`` the message completes "the text is …" ("not JSON", "nested deeper than 32 levels").
    """
    if _too_deep(text):
        raise JsonRejected(f"nested deeper than {MAX_JSON_DEPTH} levels")
    long_numbers: list[bool] = []

    def number(convert):
        def parse(literal: str):
            if len(literal) > MAX_NUMBER_CHARS:
                long_numbers.append(True)
                return _LONG
            return convert(literal)

        return parse

    try:
        value = json.loads(text, parse_int=number(int), parse_float=number(float), parse_constant=_not_json)
    except JsonRejected:
        raise
    except json.JSONDecodeError as error:
        raise JsonRejected(NOT_JSON, detail=f"{error.msg} at line {error.lineno} column {error.colno}") from None
    except (ValueError, RecursionError):
        raise JsonRejected(NOT_JSON) from None
    if long_numbers or _SURROGATE_ESCAPE.search(text):
        _check_values(value)
    return value


def _shown(name: str) -> str:
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def _check_values(value: Any) -> None:
    """Name the first field holding a lone surrogate or an overlong number."""
    top = "" if isinstance(value, (dict, list)) else "(the JSON value)"
    stack: list[tuple[str, Any]] = [(top, value)]
    while stack:
        path, item = stack.pop()
        if item is _LONG:
            raise JsonRejected(
                f"Invalid field '{path}': a number may have at most {MAX_NUMBER_CHARS} characters", path)
        if isinstance(item, str) and _SURROGATE.search(item):
            raise JsonRejected(
                f"Invalid field '{path}': text with a lone UTF-16 surrogate escape is not valid Unicode", path)
        if isinstance(item, dict):
            for key, child in reversed(item.items()):
                name = f"{path}.{_shown(key)}" if path else _shown(key)
                if _SURROGATE.search(key):
                    raise JsonRejected(
                        f"Invalid field name '{name}': a lone UTF-16 surrogate escape is not valid Unicode", name)
                stack.append((name, child))
        elif isinstance(item, list):
            for index in range(len(item) - 1, -1, -1):
                stack.append((f"{path}[{index}]", item[index]))
