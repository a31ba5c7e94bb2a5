"""Splitting event URLs, normalising site domains and matching hosts against a site."""

import pytest

from clickport.ingest.urls import ParsedUrl, host_matches_site, is_http_url, normalize_domain, split_url


@pytest.mark.parametrize(
    ("url", "hostname", "path"),
    [
        ("https://example.com/pricing", "example.com", "/pricing"),
        ("https://Example.COM/Pricing", "example.com", "/Pricing"),
        ("https://example.com", "example.com", "/"),
        ("https://example.com?x=1", "example.com", "/"),
        ("https://example.com:8443/a", "example.com", "/a"),
        ("https://user:pw@example.com/a", "example.com", "/a"),
        ("https://example.com./a", "example.com", "/a"),
        ("https://www.example.com/a/b/", "www.example.com", "/a/b/"),
        ("https://example.com/a%20b/c?q=1#top", "example.com", "/a%20b/c"),
        ("https://example.com/a;v=1", "example.com", "/a;v=1"),
        ("https://example.com/#/spa/route", "example.com", "/"),
        ("http://[2001:db8::1]:8080/x", "2001:db8::1", "/x"),
    ],
)
def test_split_url_gives_lowercase_host_and_path_as_sent(url, hostname, path):
    parsed = split_url(url)
    assert (parsed.hostname, parsed.path) == (hostname, path)


def test_split_url_keeps_the_first_value_of_each_query_parameter_decoded():
    parsed = split_url("https://example.com/?utm_source=news%20letter&utm_source=second&empty=&a=b+c")
    assert parsed.query == {"utm_source": "news letter", "empty": "", "a": "b c"}


def test_split_url_ignores_the_fragment_for_query():
    assert split_url("https://example.com/p#utm_source=x").query == {}


@pytest.mark.parametrize("url", ["http://[::1", "not a url", ""])
def test_split_url_never_raises_on_bad_input(url):
    parsed = split_url(url)
    assert isinstance(parsed, ParsedUrl)
    assert parsed.hostname == ""


def test_parsed_url_is_frozen():
    parsed = split_url("https://example.com/")
    with pytest.raises(AttributeError):
        parsed.path = "/x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com/", True),
        ("http://example.com", True),
        ("ftp://example.com/", False),
        ("example.com/path", False),
        ("https:///nohost", False),
        ("http://[::1", False),
    ],
)
def test_is_http_url(url, ok):
    assert is_http_url(url) is ok


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("example.com", "example.com"),
        ("Example.COM", "example.com"),
        ("https://www.example.com/", "example.com"),
        ("http://example.com/blog/", "example.com"),
        ("www.example.com", "example.com"),
        ("example.com/", "example.com"),
        ("  example.com  ", "example.com"),
        ("example.com:8080", "example.com"),
        ("blog.example.com", "blog.example.com"),
        ("www.blog.example.com", "blog.example.com"),
        ("wwwexample.com", "wwwexample.com"),
        ("example.com.", "example.com"),
    ],
)
def test_normalize_domain(raw, normalized):
    assert normalize_domain(raw) == normalized


@pytest.mark.parametrize(
    ("host", "domain", "matches"),
    [
        ("example.com", "example.com", True),
        ("www.example.com", "example.com", True),
        ("blog.example.com", "example.com", True),
        ("a.b.example.com", "example.com", True),
        ("EXAMPLE.com", "example.com", True),
        ("example.com", "www.example.com", True),
        ("notexample.com", "example.com", False),
        ("example.com.evil.org", "example.com", False),
        ("example.org", "example.com", False),
        ("example.com", "", False),
        ("com", "example.com", False),
    ],
)
def test_host_matches_site(host, domain, matches):
    assert host_matches_site(host, domain) is matches
