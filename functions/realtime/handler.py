"""Realtime API: GET /api/realtime from the live store."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

from clickport.domain.realtime import RealtimeResponse, realtime_snapshot
from clickport.http.observability import count_server_errors
from clickport.http.resolver import create_resolver, current_key
from clickport.runtime import get_runtime

logger = Logger(service="clickport-realtime")
app = create_resolver("realtime")


@app.get("/api/realtime")
def realtime() -> RealtimeResponse:
    runtime = get_runtime()
    now_ms = int(runtime.clock().timestamp() * 1000)
    return RealtimeResponse(**realtime_snapshot(runtime.live, current_key(app).site_id, now_ms))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event, context):
    return count_server_errors("realtime", app.resolve(event, context))
