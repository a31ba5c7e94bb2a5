"""Realtime API: GET /api/realtime from the live store."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

from clickport.http.resolver import create_resolver, not_implemented

logger = Logger(service="clickport-realtime")
app = create_resolver("realtime")


@app.get("/api/realtime")
def realtime():
    not_implemented("GET /api/realtime")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event, context):
    return app.resolve(event, context)
