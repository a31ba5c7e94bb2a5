"""Goals API: GET /api/goals, conversions per goal."""

from typing import Annotated, Optional

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths

from clickport.http.stats import goals_body
from clickport.http.observability import count_server_errors
from clickport.http.resolver import create_resolver

logger = Logger(service="clickport-goals")
app = create_resolver("goals")


@app.get("/api/goals")
def goals(
    start_date: Annotated[Optional[str], Query(description="YYYY-MM-DD, required")] = None,
    end_date: Annotated[Optional[str], Query(description="YYYY-MM-DD, exclusive, required")] = None,
    timezone: Annotated[Optional[str], Query(description="IANA zone, default UTC")] = None,
) -> dict:
    return goals_body(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event, context):
    return count_server_errors("goals", app.resolve(event, context))
