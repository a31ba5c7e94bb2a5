"""Events API: POST /api/event (API key) and POST/OPTIONS /api/track (the browser tracker)."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths

from clickport.http.client import request_facts
from clickport.http.cors import TRACK_CORS_HEADERS, with_cors
from clickport.http.observability import count_server_errors
from clickport.http.resolver import create_resolver, current_key
from clickport.ingest.models import EventAccepted, EventDropped, EventRequest, TrackRequest
from clickport.ingest.places import RequestFacts
from clickport.ingest.service import IngestService
from clickport.runtime import get_runtime

logger = Logger(service="clickport-event")
app = create_resolver("event")
_service: IngestService | None = None


def service() -> IngestService:
    global _service
    runtime = get_runtime()
    if _service is None or _service.runtime is not runtime:
        _service = IngestService(runtime)
    return _service


def facts(*, allow_forwarded_for: bool) -> RequestFacts:
    """Client IP, User-Agent and places of the current request (spec §5.3), through the runtime's geo port."""
    runtime = get_runtime()
    return request_facts(
        app.current_event.raw_event, runtime.settings, runtime.geo, allow_forwarded_for=allow_forwarded_for
    )


@app.post("/api/event")
def event(body: Annotated[EventRequest, Body()]) -> EventAccepted | EventDropped:
    return service().track_event(body, facts(allow_forwarded_for=True), current_key(app))


@app.post("/api/track", security=[])
def track(body: Annotated[TrackRequest, Body()]) -> EventAccepted | EventDropped:
    return service().track_browser(body, facts(allow_forwarded_for=False))


@app.route("/api/track", method="OPTIONS", security=[],
           responses={204: {"description": "CORS preflight: any origin may POST /api/track"}})
def track_preflight():
    return Response(status_code=204, headers=TRACK_CORS_HEADERS)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event, context):
    response = app.resolve(event, context)
    return count_server_errors("event", with_cors(event, response))
