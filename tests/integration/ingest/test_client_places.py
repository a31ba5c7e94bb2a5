"""Client IP and places behind CloudFront (spec §5.3), through the event function with realistic requests.

What AWS documents, and these requests reproduce:

- CloudFront, "Request and response behavior for custom origins", Client IP addresses: "If a viewer sends
  a request to CloudFront and does not include an X-Forwarded-For request header, CloudFront gets the IP
  address of the viewer from the TCP connection, adds an X-Forwarded-For header that includes the IP
  address, and forwards the request to the origin." With an X-Forwarded-For the viewer sent, CloudFront
  appends the viewer's address to the end of it.
- API Gateway then appends the address of the connection it received (CloudFront's: 130.176.0.0/16 is a
  CloudFront range), which is also ``requestContext.http.sourceIp``: "The source IP address of the TCP
  connection making the request to API Gateway".
- CloudFront, "Add CloudFront request headers": ``CloudFront-Viewer-Address`` holds the viewer's IP address
  and source port; ``CloudFront-Viewer-Country``, ``-Country-Region`` (the ISO 3166-2 subdivision code
  without the country) and ``-City`` its places.

So a plain browser request through CloudFront carries ``x-forwarded-for: <viewer>, <CloudFront>`` and is not
forwarded by anyone: its places must stand.
"""

from __future__ import annotations

import pytest

from clickport.adapters.geo import EdgeGeoLocator, OfflineGeoLocator
from clickport.http.client import forwarded_client, request_facts
from clickport.ingest.places import Places
from clickport.runtime import Runtime, set_runtime
from clickport.settings import Settings
from tests.conftest import BROWSER_UA
from tests.support.events import stored_rows

SECRET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"
VIEWER = "203.0.113.7"
EDGE = "130.176.12.34"  # a CloudFront edge address: API Gateway's sourceIp behind CloudFront
BERLIN = {
    "cloudfront-viewer-country": "DE",
    "cloudfront-viewer-country-region": "BE",
    "cloudfront-viewer-city": "Berlin",
}


def cloudfront_headers(forwarded_for: str, *, secret: str = SECRET) -> dict[str, str]:
    """The headers the event function receives for a request that came through the stack's CloudFront."""
    return {
        "user-agent": BROWSER_UA,
        "content-type": "text/plain;charset=UTF-8",
        "x-forwarded-for": forwarded_for,
        "x-forwarded-proto": "https",
        "x-forwarded-port": "443",
        "via": "2.0 3f2c1a0e5b0b6d3e5b9a2f1c7d8e9f00.cloudfront.net (CloudFront)",
        "x-amz-cf-id": "Zk9bq3-ExampleCfId-2l5o9F8x5Q==",
        "cloudfront-viewer-address": f"{VIEWER}:51234",
        **BERLIN,
        "x-clickport-origin-secret": secret,
    }


@pytest.fixture
def cloudfront_runtime(tmp_path):
    """The local runtime with the origin secret the stack gives the event function."""
    instance = Runtime(Settings(data_dir=tmp_path / "data", key_cache_seconds=0, origin_secret=SECRET))
    set_runtime(instance)
    yield instance
    set_runtime(None)


@pytest.fixture
def cf_site(cloudfront_runtime):
    from clickport.domain.keys import issue_key

    site = cloudfront_runtime.config.create_site("example.com")
    key = issue_key(cloudfront_runtime.config, site.site_id, ["tracker"])[0]
    return site, key


def _places(runtime) -> list[tuple]:
    return [(row["country"], row["region"], row["city"]) for row in stored_rows(runtime.settings.data_dir)]


def test_api_event_through_cloudfront_keeps_the_viewers_places(gateway, cloudfront_runtime, cf_site):
    _, key = cf_site
    headers = {**cloudfront_headers(f"{VIEWER}, {EDGE}"), "x-api-key": key}
    status, _, body = gateway("POST", "/api/event", body={"url": "https://example.com/"}, headers=headers, ip=EDGE)
    assert status == 200 and body["success"], body
    assert _places(cloudfront_runtime) == [("DE", "DE-BE", "Berlin")]


def test_api_track_through_cloudfront_keeps_the_viewers_places(gateway, cloudfront_runtime, cf_site):
    headers = cloudfront_headers(f"{VIEWER}, {EDGE}")
    body = {"url": "https://example.com/", "domain": "example.com"}
    status, _, answer = gateway("POST", "/api/track", body=body, headers=headers, ip=EDGE)
    assert status == 200 and answer["success"], answer
    assert _places(cloudfront_runtime) == [("DE", "DE-BE", "Berlin")]


def test_event_and_track_of_one_viewer_are_one_visitor(gateway, cloudfront_runtime, cf_site):
    """Both routes take the viewer's address, not CloudFront's, so their visitor ids agree."""
    _, key = cf_site
    gateway("POST", "/api/event", body={"url": "https://example.com/a"},
            headers={**cloudfront_headers(f"{VIEWER}, {EDGE}"), "x-api-key": key}, ip=EDGE)
    gateway("POST", "/api/track", body={"url": "https://example.com/b", "domain": "example.com"},
            headers=cloudfront_headers(f"{VIEWER}, {EDGE}"), ip="130.176.99.1")  # another edge node
    first, second = stored_rows(cloudfront_runtime.settings.data_dir)
    assert first["visitor_id"] == second["visitor_id"]


def test_a_server_forwarding_its_visitor_gives_the_visitor_not_the_viewers_places(
    gateway, cloudfront_runtime, cf_site
):
    """A backend at 203.0.113.7 forwards its visitor 198.51.100.9 through CloudFront."""
    _, key = cf_site
    forwarded = f"198.51.100.9, {VIEWER}, {EDGE}"
    headers = {**cloudfront_headers(forwarded), "x-api-key": key}
    first = gateway("POST", "/api/event", body={"url": "https://example.com/"}, headers=headers, ip=EDGE)[2]
    # 198.51.100.9 is a documentation address: the offline table has no country for it.
    assert _places(cloudfront_runtime) == [(None, None, None)]
    # The visitor is the forwarded address: another forwarded visitor is another session, the server
    # itself (the viewer, sending for itself) a third.
    other = {**cloudfront_headers(f"198.51.100.10, {VIEWER}, {EDGE}"), "x-api-key": key}
    second = gateway("POST", "/api/event", body={"url": "https://example.com/"}, headers=other, ip=EDGE)[2]
    own = {**cloudfront_headers(f"{VIEWER}, {EDGE}"), "x-api-key": key}
    third = gateway("POST", "/api/event", body={"url": "https://example.com/"}, headers=own, ip=EDGE)[2]
    assert len({first["session_id"], second["session_id"], third["session_id"]}) == 3


def test_forwarded_visitor_gets_the_offline_country_locally_and_none_on_aws(cloudfront_runtime):
    """The viewer's places are the server's; the visitor's country comes from the runtime's table, if any."""
    event = {
        "headers": cloudfront_headers(f"8.8.8.8, {VIEWER}, {EDGE}"),
        "requestContext": {"http": {"sourceIp": EDGE}},
    }
    settings = cloudfront_runtime.settings
    local = request_facts(event, settings, OfflineGeoLocator(), allow_forwarded_for=True)
    aws = request_facts(event, settings, EdgeGeoLocator(), allow_forwarded_for=True)
    assert (local.client_ip, local.places) == ("8.8.8.8", Places(country="US"))
    assert (aws.client_ip, aws.places) == ("8.8.8.8", Places())
    # /api/track never honours X-Forwarded-For: the viewer and its places.
    track = request_facts(event, settings, EdgeGeoLocator(), allow_forwarded_for=False)
    assert (track.client_ip, track.places) == (VIEWER, Places("DE", "DE-BE", "Berlin"))


def test_the_aws_runtime_locates_through_cloudfronts_headers():
    assert isinstance(Runtime(Settings(backend="aws")).geo, EdgeGeoLocator)
    assert isinstance(Runtime(Settings()).geo, OfflineGeoLocator)


@pytest.mark.parametrize("secret", ["wrong-secret", ""])
def test_without_the_origin_secret_no_viewer_header_is_trusted(cloudfront_runtime, secret):
    """Straight to API Gateway anyone can send CloudFront's header names: sourceIp, no places."""
    headers = cloudfront_headers("", secret=secret)
    del headers["x-forwarded-for"]
    event = {"headers": headers, "requestContext": {"http": {"sourceIp": "192.0.2.55"}}}
    facts = request_facts(event, cloudfront_runtime.settings, EdgeGeoLocator(), allow_forwarded_for=True)
    assert (facts.client_ip, facts.places) == ("192.0.2.55", Places())


def test_request_facts_never_show_the_address():
    event = {"headers": cloudfront_headers(f"{VIEWER}, {EDGE}"), "requestContext": {"http": {"sourceIp": EDGE}}}
    facts = request_facts(event, Settings(origin_secret=SECRET), EdgeGeoLocator(), allow_forwarded_for=True)
    assert facts.client_ip == VIEWER and VIEWER not in repr(facts) and VIEWER not in str(facts)


@pytest.mark.parametrize(
    ("value", "appended", "client"),
    [
        (f"{VIEWER}, {EDGE}", (EDGE, VIEWER), None),  # CloudFront's and API Gateway's entries only
        (f"{VIEWER},{EDGE}", (EDGE, VIEWER), None),
        (f"198.51.100.9, {VIEWER}, {EDGE}", (EDGE, VIEWER), "198.51.100.9"),
        (f"unknown, {VIEWER}, {EDGE}", (EDGE, VIEWER), None),
        (f"{VIEWER}, {VIEWER}, {EDGE}", (EDGE, VIEWER), VIEWER),  # the caller compares with the viewer
        (f"198.51.100.9:4711, {VIEWER}, {EDGE}", (EDGE, VIEWER), "198.51.100.9"),
        ("[2001:db8::9]:443, 2001:db8::7, 130.176.12.34", (EDGE, "2001:db8::7"), "2001:db8::9"),
        # Straight to API Gateway: only its own entry (the caller's address) is appended.
        ("198.51.100.9, 192.0.2.55", ("192.0.2.55", "192.0.2.55"), "198.51.100.9"),
        ("192.0.2.55", ("192.0.2.55", "192.0.2.55"), None),
        # Local server: nothing appended.
        ("203.0.113.7, 10.0.0.2", ("10.0.0.1", "10.0.0.1"), "203.0.113.7"),
        ("", (EDGE, VIEWER), None),
    ],
)
def test_forwarded_client_is_the_leftmost_entry_a_client_supplied(value, appended, client):
    assert forwarded_client(value, appended_by_edge=appended) == client
