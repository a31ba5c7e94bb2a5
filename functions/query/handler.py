"""Stats API: POST /api/query and the convenience breakdowns (GET /api/<name>, /api/utm/<param>)."""

from typing import Annotated, Optional

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths

from clickport.http.observability import count_server_errors
from clickport.http.resolver import create_resolver
from clickport.http.stats import convenience_response, query_response
from clickport.query.models import QueryRequest

logger = Logger(service="clickport-query")
app = create_resolver("query")

# NOTE: typed as text so that the query layer gives its own messages ("limit must be between 1 and 10000").
Date = Annotated[Optional[str], Query(description="YYYY-MM-DD (required)")]
Zone = Annotated[Optional[str], Query(description="IANA zone, default UTC")]
Limit = Annotated[Optional[str], Query(description="1 to 10000")]
Offset = Annotated[Optional[str], Query(description="0 or more")]


@app.post("/api/query")
def query(body: Annotated[Optional[QueryRequest], Body()] = None):
    return query_response(app, body)


@app.get("/api/utm/<param>")
def utm_breakdown(param: str, start_date: Date = None, end_date: Date = None, timezone: Zone = None,
                  limit: Limit = None, offset: Offset = None):
    return convenience_response(app, f"utm/{param}")


@app.get("/api/<breakdown>")
def breakdown(breakdown: str, start_date: Date = None, end_date: Date = None, timezone: Zone = None,
              limit: Limit = None, offset: Offset = None):
    return convenience_response(app, breakdown)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event, context):
    return count_server_errors("query", app.resolve(event, context))
