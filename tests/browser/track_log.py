"""The tracker's requests to /api/track as the browser's Network domain reports them: method, headers, body, answer."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .devtools import DevToolsError, DevToolsPage


@dataclass
class TrackRequest:
    request_id: str
    method: str
    headers: dict[str, str]
    body: dict[str, Any] | None = None
    finished: bool = False
    failed: str | None = None
    status: int | None = None
    answer: Any = None

    @property
    def accepted(self) -> bool:
        """Answered 200 with success (beacons, whose answers are not kept, count when they got a 200)."""
        if self.failed or self.status != 200:
            return False
        return self.answer is None or (isinstance(self.answer, dict) and self.answer.get("success") is True)

    @property
    def type(self) -> str | None:
        return self.body.get("type") if self.body else None


@dataclass
class TrackLog:
    """Reads the page's protocol events (Network.enable first) and keeps the requests to ``track_url``."""

    page: DevToolsPage
    track_url: str
    requests: dict[str, TrackRequest] = field(default_factory=dict)
    _seen: int = 0

    def refresh(self) -> list[TrackRequest]:
        events = list(self.page.events)
        for event in events[self._seen :]:
            self._apply(event["method"], event["params"])
        self._seen = len(events)
        return list(self.requests.values())

    def _apply(self, method: str, params: dict[str, Any]) -> None:
        request_id = params.get("requestId")
        if method == "Network.requestWillBeSent" and params["request"]["url"] == self.track_url:
            request = params["request"]
            tracked = TrackRequest(request_id, request["method"], request.get("headers", {}))
            tracked.body = self._body(request_id, request)
            self.requests[request_id] = tracked
        elif request_id in self.requests:
            tracked = self.requests[request_id]
            if method == "Network.responseReceived":
                tracked.status = params["response"]["status"]
            elif method == "Network.loadingFinished":
                tracked.finished = True
                tracked.answer = self._answer(request_id)
            elif method == "Network.loadingFailed":
                tracked.finished, tracked.failed = True, params.get("errorText", "failed")

    def _body(self, request_id: str, request: dict[str, Any]) -> dict[str, Any] | None:
        text = request.get("postData")
        if text is None and request.get("hasPostData"):
            try:
                text = self.page.call("Network.getRequestPostData", requestId=request_id)["postData"]
            except DevToolsError:
                return None
        return json.loads(text) if text else None

    def _answer(self, request_id: str) -> Any:
        try:
            body = self.page.call("Network.getResponseBody", requestId=request_id)["body"]
        except DevToolsError:
            return None
        if not body:
            return None  # beacons keep no body
        try:
            return json.loads(body)
        except ValueError:
            return body

    def finished_types(self) -> Counter[str]:
        return Counter(r.type for r in self.refresh() if r.finished and r.type)

    def wait_for(self, what: str, **counts: int) -> None:
        """Wait until at least ``counts`` requests of each type have been answered."""

        def arrived() -> bool:
            finished = self.finished_types()
            refused = [r for r in self.requests.values() if r.finished and not r.accepted]
            if refused:
                raise AssertionError(f"/api/track refused a request while waiting for {what}: {self.describe()}")
            return all(finished[kind] >= n for kind, n in counts.items())

        try:
            self.page.wait_until(arrived, what)
        except DevToolsError as exc:
            raise AssertionError(f"{exc}; /api/track requests so far: {self.describe()}") from exc

    def describe(self) -> list[tuple[str, str | None, int | None, Any]]:
        return [(r.method, r.type, r.status, r.answer or r.failed) for r in self.refresh()]
