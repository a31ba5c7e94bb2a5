"""A key of site A can never read or write site B, whatever the parameters say."""

from clickport.domain.keys import issue_key
from tests.conftest import BROWSER_UA


def test_site_b_is_unreachable_with_site_a_key(gateway, runtime, site, keys):
    other = runtime.config.create_site("other.example")
    other_key = issue_key(runtime.config, other.site_id, [])[0]
    headers_b = {"x-api-key": other_key, "User-Agent": BROWSER_UA}
    headers_a = {"x-api-key": keys["both"], "User-Agent": BROWSER_UA}
    runtime.config.create_goal(other.site_id, "B only", "custom", {"event": "Secret"})

    b_event = gateway("POST", "/api/event", body={"url": "https://other.example/secret"}, headers=headers_b)[2]
    assert b_event["success"]

    # Naming site B anywhere is refused, not honoured.
    status, _, body = gateway("POST", "/api/query", body={"site_id": other.site_id}, headers=headers_a)
    assert status == 400 and "site comes from the API key" in body["message"]
    status, _, body = gateway("POST", "/api/event", body={"url": "https://other.example/", "site_id": other.site_id},
                              headers=headers_a)
    assert status == 400
    status, _, body = gateway("GET", f"/api/pages?start_date=2026-01-01&end_date=2026-12-31&site_id={other.site_id}",
                              headers=headers_a)
    assert status == 400

    # What A sees holds nothing of B.
    _, _, realtime = gateway("GET", "/api/realtime", headers=headers_a)
    assert realtime == {"count": 0, "visitors": []}
    _, _, stats = gateway("POST", "/api/query", body={"metrics": ["pageviews"], "period": "today"}, headers=headers_a)
    assert stats["results"]["pageviews"] == 0
    _, _, goals = gateway("GET", "/api/goals?start_date=2026-01-01&end_date=2027-01-01", headers=headers_a)
    assert goals == {"goals": []}
    status, _, body = gateway("POST", "/api/query", body={"metrics": ["conversions"], "filters": [
        {"dimension": "goal", "operator": "is", "value": "B only"}]}, headers=headers_a)
    assert status == 400

    # A's key continuing B's session starts a new session of A instead.
    a_event = gateway("POST", "/api/event", body={"url": "https://example.com/", "session_id": b_event["session_id"]},
                      headers=headers_a)[2]
    assert a_event["success"] and a_event["session_id"] != b_event["session_id"]
    _, _, realtime_b = gateway("GET", "/api/realtime", headers=headers_b)
    assert realtime_b["count"] == 1 and realtime_b["visitors"][0]["pageviews"] == 1
