"""Wiring shared by the query and goals functions: the key's site and goals, the engine, Server-Timing."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import Response

from clickport.limits import MAX_ANSWER_BYTES

from clickport.http.resolver import ClickportResolver, current_key
from clickport.ports import Goal, Site
from clickport.query.models import QueryRequest
from clickport.runtime import get_runtime


def _site_and_goals(app: ClickportResolver) -> tuple[Site, list[Goal]]:
    from clickport.errors import BadRequest

    runtime = get_runtime()
    site_id = current_key(app).site_id
    site = runtime.config.get_site(site_id)
    if site is None:
        raise BadRequest("The API key's site no longer exists")
    return site, runtime.config.list_goals(site_id)


def answer_text(body) -> str:
    """The answer's JSON, serialized once (as Powertools would), unless Lambda could not carry it: a 400
    naming ``MAX_ANSWER_BYTES`` when the answer, escaped into Lambda's response, would be larger."""
    from clickport.errors import BadRequest

    text = json.dumps(body, separators=(",", ":"))
    carried = len(json.dumps(text))
    if carried > MAX_ANSWER_BYTES:
        raise BadRequest(
            f"The answer would be {carried:,} bytes, over the limit of {MAX_ANSWER_BYTES:,} bytes: "
            "ask for fewer rows (limit), dimensions or metrics"
        )
    return text


def _timed(result) -> Response:
    timing = ", ".join(f"{name};dur={ms:.1f}" for name, ms in result.timings.items())
    headers = {"Server-Timing": timing} if timing else {}
    return Response(status_code=200, content_type="application/json", body=answer_text(result.body),
                    headers=headers)


def query_response(app: ClickportResolver, request: QueryRequest | None) -> Response:
    """``request`` is the body the route already validated; None stands for an empty body (``{}``),
    while any other body that is not a JSON object (``null`` included) is a 400."""
    from clickport.errors import BadRequest
    from clickport.query.service import run_request

    if request is None:
        raw = app.current_event.decoded_body
        if raw and raw.strip():
            raise BadRequest("The request body must be a JSON object")
        request = QueryRequest()
    runtime = get_runtime()
    site, goals = _site_and_goals(app)
    return _timed(run_request(request, site=site, goals=goals, engine=runtime.engine, now=runtime.clock()))


def convenience_response(app: ClickportResolver, name: str) -> Response:
    from clickport.query.service import run_convenience

    runtime = get_runtime()
    site, goals = _site_and_goals(app)
    params = dict(app.current_event.query_string_parameters or {})
    return _timed(run_convenience(name, params, site=site, goals=goals, engine=runtime.engine, now=runtime.clock()))


def goals_body(app: ClickportResolver) -> dict:
    from clickport.query.service import goals_report

    runtime = get_runtime()
    site, goals = _site_and_goals(app)
    params = dict(app.current_event.query_string_parameters or {})
    return goals_report(params, site=site, goals=goals, engine=runtime.engine, now=runtime.clock())
