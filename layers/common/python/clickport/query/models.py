"""The request model of ``POST /api/query`` (spec §3): shapes and limits; names are checked in validation.py.

The registries' names (metrics, dimensions, periods, operators, zones) are stated in the OpenAPI document
from here as enums; validation.py checks them, so that its messages list the valid names.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from clickport.errors import BadRequest
from clickport.limits import (
    MAX_DIMENSIONS,
    MAX_FILTER_VALUES,
    MAX_FILTERS,
    MAX_LIMIT,
    MAX_METRICS,
    MAX_NAME_LENGTH,
    MAX_OFFSET,
    MAX_PROP_KEY,
    MAX_VALUE_LENGTH,
    MAX_ZONE_LENGTH,
)
from clickport.query.dimensions import DIMENSION_NAMES, DIMENSIONS, PROP_PREFIX
from clickport.query.filters import OPERATOR_NAMES
from clickport.query.metrics import METRIC_NAMES
from clickport.query.periods import PERIODS
from clickport.query.zones import TIME_ZONE_SCHEMA

DEFAULT_LIMIT = 100
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
PROP_PATTERN = f"^{PROP_PREFIX}[\\s\\S]{{1,{MAX_PROP_KEY}}}$"
FILTERABLE = tuple(name for name in DIMENSION_NAMES if not DIMENSIONS[name].is_time)


def _one_of(names, *, props: bool = False) -> dict[str, Any]:
    """The OpenAPI statement of a registry name: an enum (or a ``prop:<key>``)."""
    if not props:
        return {"json_schema_extra": {"enum": list(names)}}
    return {"json_schema_extra": {"anyOf": [{"enum": list(names)}, {"pattern": PROP_PATTERN}]}}


Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH)]
MetricName = Annotated[Name, Field(**_one_of(METRIC_NAMES))]
DimensionName = Annotated[Name, Field(**_one_of(DIMENSION_NAMES, props=True))]
OrderName = Annotated[Name, Field(**_one_of(METRIC_NAMES + DIMENSION_NAMES, props=True))]
FilterDimension = Annotated[Name, Field(**_one_of(FILTERABLE, props=True))]
FilterValue = Annotated[str, StringConstraints(min_length=1, max_length=MAX_VALUE_LENGTH)]
DateText = Annotated[str, StringConstraints(max_length=40), Field(json_schema_extra={"pattern": DATE_PATTERN,
                                                                                      "format": "date"})]
ZoneName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ZONE_LENGTH),
                     Field(json_schema_extra=TIME_ZONE_SCHEMA)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DateRangeModel(_Strict):
    """Local dates in ``timezone``, the end exclusive and after the start."""

    start: DateText
    end: DateText


class FilterModel(_Strict):
    dimension: FilterDimension
    operator: Annotated[str, StringConstraints(min_length=1, max_length=40), Field(**_one_of(OPERATOR_NAMES))]
    value: FilterValue | Annotated[list[FilterValue], Field(min_length=1, max_length=MAX_FILTER_VALUES)]


class QueryRequest(_Strict):
    metrics: Annotated[list[MetricName], Field(min_length=1, max_length=MAX_METRICS)] | None = None
    dimensions: Annotated[list[DimensionName], Field(max_length=MAX_DIMENSIONS)] | None = None
    period: Annotated[str, StringConstraints(min_length=1, max_length=40), Field(**_one_of(PERIODS))] | None = None
    date_range: DateRangeModel | None = None
    filters: Annotated[list[FilterModel], Field(max_length=MAX_FILTERS)] | None = None
    order_by: OrderName | None = None
    order_dir: Literal["asc", "desc"] | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] | None = None
    offset: Annotated[int, Field(ge=0, le=MAX_OFFSET)] | None = None
    timezone: ZoneName | None = None
    include_comparison: bool | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _one_readable_error(cls, data: Any, handler: Any) -> Any:
        """Any failure becomes one error whose message names the field (and the valid names, for lists).

        NOTE: the HTTP layer validates bodies against this model before the handler runs, so
        the message has to be made here for it to reach the caller.
        """
        if not isinstance(data, dict):
            return handler(data)
        if "site_id" in data:
            raise PydanticCustomError(INVALID_QUERY, "{message}", {"message": f"Unknown field 'site_id': {SITE_FROM_KEY}"})
        try:
            return handler(data)
        except ValidationError as exc:
            message = describe_error(pick_error(exc.errors()))
            raise PydanticCustomError(INVALID_QUERY, "{message}", {"message": message}) from None


QUERY_FIELDS: tuple[str, ...] = tuple(QueryRequest.model_fields)
_FIELDS_OF: dict[str, tuple[str, ...]] = {
    "": QUERY_FIELDS,
    "filters": tuple(FilterModel.model_fields),
    "date_range": tuple(DateRangeModel.model_fields),
}
SITE_FROM_KEY = "the site comes from the API key"
INVALID_QUERY = "invalid_query"  # the one pydantic error type the model raises, its message already readable


def parse_request(body: Any) -> QueryRequest:
    """Validate the raw JSON body; every failure is a ``BadRequest`` naming the field."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object")
    if "site_id" in body:
        raise BadRequest(SITE_FROM_KEY)
    try:
        return QueryRequest.model_validate(body)
    except ValidationError as exc:
        raise BadRequest(describe_error(pick_error(exc.errors()))) from None


def field_path(loc: tuple[Any, ...]) -> str:
    """``filters[0].value`` from a pydantic location (union branch names left out)."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in QUERY_FIELDS or part in ("dimension", "operator", "value", "start", "end"):
            text += ("." if text else "") + str(part)
    return text


def pick_error(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The error to report: the first, unless a later one about the same field says more than a type mismatch.

    A filter value is a string or an array; for an array of 101 strings the string branch's
    "not a string" comes first, but the array branch's "too many values" is the real reason.
    """
    first = errors[0]
    base = field_path(tuple(first.get("loc", ())))
    for error in errors:
        if field_path(tuple(error.get("loc", ()))).startswith(base) and not error["type"].endswith("_type"):
            return error
    return first


_TYPE_WORDS = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "an array",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
}


def describe_error(error: dict[str, Any]) -> str:
    """One person-readable message for the first pydantic error."""
    kind = error["type"]
    if kind == INVALID_QUERY:
        return str((error.get("ctx") or {}).get("message") or error.get("msg"))
    loc = tuple(error.get("loc", ()))
    path = field_path(loc)
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        unknown = str(loc[-1])
        parent = field_path(loc[:-1])
        valid = _FIELDS_OF.get(parent.split("[")[0], QUERY_FIELDS)
        where = f" in {parent}" if parent else ""
        return f"Unknown field '{unknown}'{where}. Valid fields: {', '.join(valid)}"
    if kind == "missing":
        return f"{path} is required"
    if path == "limit" and kind in ("greater_than_equal", "less_than_equal"):
        return f"limit must be between 1 and {MAX_LIMIT}"
    if path == "offset" and kind in ("greater_than_equal", "less_than_equal"):
        return f"offset must be between 0 and {MAX_OFFSET}"
    if kind == "literal_error" and path == "order_dir":
        return "order_dir must be 'asc' or 'desc'"
    if path.startswith("filters") and path.endswith("value") or path.startswith("filters") and "value[" in path:
        if kind in ("string_too_short", "too_short", "string_type", "list_type"):
            return f"{path} must be a non-empty string or a non-empty array of non-empty strings"
        if kind in ("string_too_long",):
            return f"{path} must be at most {MAX_VALUE_LENGTH} characters"
        if kind == "too_long":
            return f"{path} may list at most {MAX_FILTER_VALUES} values"
    if kind == "too_short" and path == "metrics":
        return "metrics must name at least one metric"
    if kind == "too_long":
        limits = {"metrics": MAX_METRICS, "dimensions": MAX_DIMENSIONS, "filters": MAX_FILTERS}
        if path in limits:
            return f"{path} may hold at most {limits[path]} items"
    if kind == "string_too_short":
        return f"{path} must not be empty"
    if kind == "string_too_long":
        return f"{path} must be at most {ctx.get('max_length')} characters"
    if kind in _TYPE_WORDS:
        return f"{path} must be {_TYPE_WORDS[kind]}"
    return f"{path}: {error.get('msg', 'invalid value')}"
