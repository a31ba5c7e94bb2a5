"""docs/api-reference.md is generated from the declarations the validators use and names every one of them;
the documented defaults are the ones the query plan applies; the README's links lead to files in the repository.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from clickport.errors import REASON_PHRASES
from clickport.http import descriptions
from clickport.http.openapi import build_document
from clickport.http.reference import reference_markdown
from clickport.ingest.drops import DROP_REASONS
from clickport.query.convenience import PRESETS
from clickport.query.dimensions import DIMENSION_NAMES
from clickport.query.filters import OPERATOR_NAMES
from clickport.query.goals import COUNT_KEYS
from clickport.query.metrics import METRICS
from clickport.query.models import QueryRequest
from clickport.query.periods import PERIODS, resolve_period
from clickport.query.validation import build_plan
from clickport.query.zones import get_zone
from clickport.routes import ROUTES

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "api-reference.md"


@pytest.fixture(scope="module")
def text() -> str:
    return REFERENCE.read_text(encoding="utf-8")


def test_the_committed_reference_is_the_generated_one(text):
    assert text == reference_markdown(build_document()), "docs/api-reference.md drifted: run `make openapi`"


def test_every_name_of_the_registries_has_a_description():
    assert list(descriptions.METRIC_DESCRIPTIONS) == list(METRICS)
    assert list(descriptions.DIMENSION_DESCRIPTIONS) == list(DIMENSION_NAMES)
    assert list(descriptions.PERIOD_DESCRIPTIONS) == list(PERIODS)
    assert list(descriptions.OPERATOR_DESCRIPTIONS) == list(OPERATOR_NAMES)
    assert list(descriptions.REPORT_DESCRIPTIONS) == list(PRESETS)
    assert list(descriptions.STATUS_DESCRIPTIONS) == list(REASON_PHRASES)
    assert set(descriptions.GOAL_TYPE_DESCRIPTIONS) == set(COUNT_KEYS)
    assert set(descriptions.PERMISSION_DESCRIPTIONS) == {route.permission for route in ROUTES}
    assert set(descriptions.FIELD_DESCRIPTIONS["QueryRequest"]) == set(QueryRequest.model_fields)


def _table_names(text: str, heading: str) -> list[str]:
    """The first column's names of the table under ``## heading``."""
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)


def test_the_reference_lists_every_name(text):
    assert _table_names(text, "Metrics") == list(METRICS)
    assert _table_names(text, "Dimensions") == [*DIMENSION_NAMES, "prop:<key>"]
    assert _table_names(text, "Periods") == list(PERIODS)
    assert _table_names(text, "Filter operators") == list(OPERATOR_NAMES)
    assert _table_names(text, "Reports") == [f"GET /api/{name}" for name in PRESETS]
    assert _table_names(text, "Goal types") == list(COUNT_KEYS)
    assert _table_names(text, "Drop reasons") == list(DROP_REASONS)
    errors = text.split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^\| (\d{3}) \| `([^`]+)` \|", errors, flags=re.MULTILINE) == [
        (str(status), phrase) for status, phrase in REASON_PHRASES.items()]


def test_every_endpoint_has_a_section_with_a_worked_example(text):
    for route in ROUTES:
        section = text.split(f"\n### `{route.method} {route.path}`\n", 1)[1].split("\n### ", 1)[0]
        assert "#### Example" in section and "```sh\ncurl " in section, route.route_key
        assert "Answer" in section and "Errors" in section, route.route_key


def test_the_documented_query_defaults_are_the_plans():
    """An empty body's plan has exactly the defaults the reference and the OpenAPI document state."""
    from clickport.http.examples import example_goals, example_site

    now = datetime(2026, 3, 31, 12, 0, tzinfo=timezone.utc)
    defaults = descriptions.QUERY_DEFAULTS
    plan = build_plan(QueryRequest(), site=example_site(), goals=example_goals(), now=now)
    assert [m.name for m in plan.metrics] == defaults["metrics"]
    assert list(plan.filters) == defaults["filters"]
    assert (plan.limit, plan.offset, plan.order_dir) == (defaults["limit"], defaults["offset"], defaults["order_dir"])
    assert plan.timezone == defaults["timezone"]
    assert plan.include_comparison is defaults["include_comparison"]
    expected = resolve_period(defaults["period"], now, get_zone(defaults["timezone"]),
                              example_site().first_event_date)
    assert plan.current == expected.current
    schema = build_document()["components"]["schemas"]["QueryRequest"]["properties"]
    assert {name: field["default"] for name, field in schema.items() if "default" in field} == defaults


def _relative_links(markdown: str) -> list[str]:
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", markdown)
    return [link for link in links if "://" not in link]


@pytest.mark.parametrize("document", ["README.md", "docs/api-reference.md"])
def test_relative_links_lead_to_files_in_the_repository(document):
    path = ROOT / document
    missing = [link for link in _relative_links(path.read_text(encoding="utf-8"))
               if not (path.parent / link).exists()]
    assert not missing, f"{document} links to files that are not in the repository: {missing}"


def test_the_readme_points_at_the_reference():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/api-reference.md)" in readme
