"""Goal definitions: building and checking them from the operator's input (matching happens at query time)."""

from __future__ import annotations

from typing import Any

GOAL_TYPES = ("pageview", "custom", "click", "form")
MAX_GOAL_NAME = 120
MAX_PATTERN = 2000

# Which inputs each goal type takes; exactly one of the "one_of" inputs is required.
_SHAPES: dict[str, tuple[str, ...]] = {
    "pageview": ("path",),
    "custom": ("event",),
    "click": ("url", "domain", "text"),
    "form": ("form_id", "form_name"),
}


def build_goal_definition(goal_type: str, **inputs: Any) -> tuple[dict[str, Any], str]:
    """(definition, default name) for a goal, or ``ValueError`` naming what is wrong."""
    if goal_type not in GOAL_TYPES:
        raise ValueError(f"Unknown goal type '{goal_type}'. Valid types: {', '.join(GOAL_TYPES)}")
    given = {k: v for k, v in inputs.items() if v not in (None, "")}
    allowed = set(_SHAPES[goal_type]) | ({"prop"} if goal_type == "custom" else set())
    extra = sorted(set(given) - allowed)
    if extra:
        flag = "--" + extra[0].replace("_", "-")
        raise ValueError(f"{flag} does not apply to {goal_type} goals")
    chosen = [k for k in _SHAPES[goal_type] if k in given]
    if len(chosen) != 1:
        flags = ", ".join("--" + k.replace("_", "-") for k in _SHAPES[goal_type])
        raise ValueError(f"A {goal_type} goal needs exactly one of: {flags}")
    field = chosen[0]
    value = str(given[field]).strip()
    if not value or len(value) > MAX_PATTERN:
        raise ValueError(f"--{field.replace('_', '-')} must be 1 to {MAX_PATTERN} characters")
    if goal_type == "pageview" and not value.startswith("/") and not value.startswith("*"):
        raise ValueError("--path must start with / (or *)")
    definition: dict[str, Any] = {field: value.lower() if field == "domain" else value}
    if "prop" in given:
        key, sep, prop_value = str(given["prop"]).partition("=")
        if not sep or not key.strip():
            raise ValueError("--prop must look like key=value")
        definition["prop"] = [key.strip(), prop_value]
    return definition, definition[field]


def check_goal_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_GOAL_NAME:
        raise ValueError(f"A goal name must be 1 to {MAX_GOAL_NAME} characters")
    return name
