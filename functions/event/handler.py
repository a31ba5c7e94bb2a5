"""Events API: POST /api/event (API key) and POST/OPTIONS /api/track (the browser tracker)."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

from clickport.http.resolver import create_resolver, not_implemented

logger = Logger(service="clickport-event")
app = create_resolver("event")


@app.post("/api/event")
def event():
    not_implemented("POST /api/event")


@app.post("/api/track")
def track():
    not_implemented("POST /api/track")


@app.route("/api/track", method="OPTIONS")
def track_preflight():
    not_implemented("OPTIONS /api/track")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event, context):
    return app.resolve(event, context)
