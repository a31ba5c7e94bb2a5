"""Counting the 5xx answers a function gives itself (``ServerErrors``), which Lambda never sees as errors.

The resolver turns a bug into a 500 JSON answer and a failing store into 503, and the function returns
normally, so Lambda's ``Errors`` metric stays at 0 ("Errors: The number of invocations that result in a
function error", i.e. the function raised). Each handler passes its answer through ``count_server_errors``,
which emits one CloudWatch embedded-metric-format line per 5xx: ``Clickport/ServerErrors`` with the
dimensions ``service`` (``clickport-<function>``, as Powertools names it) and ``status``. Only inside
Lambda (``AWS_LAMBDA_FUNCTION_NAME`` is set), where CloudWatch Logs turns those lines into metrics: the
local server prints nothing.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

SERVER_ERRORS_METRIC = "ServerErrors"


def service_name(function: str) -> str:
    return f"clickport-{function}"


def count_server_errors(function: str, response: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return ``response`` unchanged; a 5xx status is counted first."""
    status = int(response.get("statusCode") or 200)
    if status >= 500 and os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        from clickport.ingest.drops import METRICS_NAMESPACE

        with single_metric(
            name=SERVER_ERRORS_METRIC, unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE
        ) as metric:
            metric.add_dimension(name="service", value=service_name(function))
            metric.add_dimension(name="status", value=str(status))
    return response
