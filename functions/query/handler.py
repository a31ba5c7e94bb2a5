"""Stats API: POST /api/query and the convenience breakdowns (GET /api/<name>, /api/utm/<param>)."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

from clickport.http.resolver import create_resolver, not_implemented

logger = Logger(service="clickport-query")
app = create_resolver("query")


@app.post("/api/query")
def query():
    not_implemented("POST /api/query")


@app.get("/api/utm/<param>")
def utm_breakdown(param: str):
    not_implemented(f"GET /api/utm/{param}")


@app.get("/api/<breakdown>")
def breakdown(breakdown: str):
    not_implemented(f"GET /api/{breakdown}")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event, context):
    return app.resolve(event, context)
