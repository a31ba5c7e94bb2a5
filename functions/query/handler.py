"""Stats API: POST /api/query and the convenience breakdowns (GET /api/<name>, /api/utm/<param>)."""

from typing import Annotated, Optional

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths

from clickport.http.resolver import create_resolver
from clickport.http.stats import convenience_response, query_response
from clickport.query.models import QueryRequest

logger = Logger(service="clickport-query")
app = create_resolver("query")

Date = Annotated[Optional[str], Query(description="YYYY-MM-DD")]


@app.post("/api/query")
def query(body: Annotated[Optional[QueryRequest], Body()] = None):
    return query_response(app, app.current_event.json_body)


@app.get("/api/utm/<param>")
def utm_breakdown(
    param: str, start_date: Date = None, end_date: Date = None, timezone: Annotated[Optional[str], Query()] = None,
    limit: Annotated[Optional[int], Query()] = None, offset: Annotated[Optional[int], Query()] = None,
):
    return convenience_response(app, f"utm/{param}")


@app.get("/api/<breakdown>")
def breakdown(
    breakdown: str, start_date: Date = None, end_date: Date = None,
    timezone: Annotated[Optional[str], Query()] = None, limit: Annotated[Optional[int], Query()] = None,
    offset: Annotated[Optional[int], Query()] = None,
):
    return convenience_response(app, breakdown)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event, context):
    return app.resolve(event, context)
