"""Client IP extraction, rate-limit keys, CloudFront places and the offline IP → country table."""

import sys

import pytest

from clickport.http.client import client_ip_from_cloudfront, leftmost_valid_forwarded_for, places_from_cloudfront
from clickport.ingest.places import Places, country_for_ip, ip_rate_key


@pytest.mark.parametrize(
    ("ip", "country"),
    [
        ("8.8.8.8", "US"),
        ("1.0.16.1", "JP"),
        ("2001:4860:4860::8888", "US"),
        ("::ffff:8.8.8.8", "US"),
        (" 8.8.8.8 ", "US"),
        ("10.0.0.1", None),
        ("192.168.1.1", None),
        ("172.16.0.1", None),
        ("127.0.0.1", None),
        ("100.64.0.1", None),
        ("::1", None),
        ("fe80::1", None),
        ("fd00::1", None),
        ("2001:db8::1", None),
        ("0.0.0.0", None),
        ("", None),
        ("not-an-ip", None),
        ("999.1.1.1", None),
    ],
)
def test_country_for_ip(ip, country):
    assert country_for_ip(ip) == country


def test_country_for_ip_is_none_when_the_table_is_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "iptocc", None)
    assert country_for_ip("8.8.8.8") is None


@pytest.mark.parametrize(
    ("headers", "places"),
    [
        (
            {"CloudFront-Viewer-Country": "DE", "CloudFront-Viewer-Country-Region": "BE", "CloudFront-Viewer-City": "Berlin"},
            Places("DE", "DE-BE", "Berlin"),
        ),
        (
            {"cloudfront-viewer-country": "br", "cloudfront-viewer-country-region": "sp", "cloudfront-viewer-city": "S%C3%A3o%20Paulo"},
            Places("BR", "BR-SP", "São Paulo"),
        ),
        (
            {"CLOUDFRONT-VIEWER-COUNTRY": "US", "CloudFront-Viewer-Country-Region": "US-CA"},
            Places("US", "US-CA", None),
        ),
        ({"CloudFront-Viewer-Country": "FR"}, Places("FR", None, None)),
        ({"CloudFront-Viewer-Country": "FR", "CloudFront-Viewer-City": "  "}, Places("FR", None, None)),
        ({"CloudFront-Viewer-Country": "FR", "CloudFront-Viewer-Country-Region": "not a code"}, Places("FR", None, None)),
        ({"CloudFront-Viewer-Country-Region": "BE", "CloudFront-Viewer-City": "Berlin"}, Places()),
        ({"CloudFront-Viewer-Country": "Germany"}, Places()),
        ({}, Places()),
        ({"Content-Type": "text/plain"}, Places()),
    ],
)
def test_places_from_cloudfront(headers, places):
    assert places_from_cloudfront(headers) == places


@pytest.mark.parametrize(
    ("value", "ip"),
    [
        ("198.51.100.10:46532", "198.51.100.10"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:db8::1:443", "2001:db8::1"),
        ("2001:DB8:0:0:0:0:0:1:443", "2001:db8::1"),
        ("198.51.100.10", "198.51.100.10"),
        ("2001:db8::1", "2001:db8::1"),
        ("[::ffff:198.51.100.10]:80", "198.51.100.10"),
        ("", None),
        ("garbage:123", None),
        ("[nope]:443", None),
    ],
)
def test_client_ip_from_cloudfront(value, ip):
    assert client_ip_from_cloudfront(value) == ip


@pytest.mark.parametrize(
    ("value", "ip"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("203.0.113.7, 10.0.0.1, 70.41.3.18", "203.0.113.7"),
        ("unknown, 203.0.113.7", "203.0.113.7"),
        ("  , garbage ,2001:db8::7", "2001:db8::7"),
        ("203.0.113.7:5555, 10.0.0.1", "203.0.113.7"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ('"[2001:db8::7]"', "2001:db8::7"),
        ("10.0.0.1, 203.0.113.7", "10.0.0.1"),
        ("", None),
        ("unknown", None),
        ("a, b, c", None),
    ],
)
def test_leftmost_valid_forwarded_for(value, ip):
    assert leftmost_valid_forwarded_for(value) == ip


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
    ],
)
def test_ip_rate_key_groups_ipv6_by_its_64_network(ip, key):
    assert ip_rate_key(ip) == key


def test_ip_rate_key_tells_different_ipv6_networks_apart():
    assert ip_rate_key("2001:db8:1:2::1") != ip_rate_key("2001:db8:1:3::1")
