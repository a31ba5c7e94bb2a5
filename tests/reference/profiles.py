"""Hypothesis profiles of the query tests: "default" (derandomized, quick) and "long" (env CLICKPORT_HYPOTHESIS_PROFILE=long)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# NOTE: no shrinking by default: one example runs real DuckDB queries, and the failing example is printed anyway.
_QUICK_PHASES = (Phase.explicit, Phase.reuse, Phase.generate)
settings.register_profile(
    "clickport-query-default", derandomize=True, max_examples=40, phases=_QUICK_PHASES, database=None, **_COMMON
)
settings.register_profile("clickport-query-long", max_examples=500, **_COMMON)


def query_settings(examples: int | None = None) -> settings:
    """The active profile for query property tests (``examples`` overrides the default profile's count)."""
    if os.environ.get("CLICKPORT_HYPOTHESIS_PROFILE") == "long":
        return settings.get_profile("clickport-query-long")
    profile = settings.get_profile("clickport-query-default")
    return settings(profile, max_examples=examples) if examples else profile
