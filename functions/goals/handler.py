"""Goals API: GET /api/goals, conversions per goal."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

from clickport.http.resolver import create_resolver, not_implemented

logger = Logger(service="clickport-goals")
app = create_resolver("goals")


@app.get("/api/goals")
def goals():
    not_implemented("GET /api/goals")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event, context):
    return app.resolve(event, context)
