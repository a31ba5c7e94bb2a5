"""The local server's demo page: the tracker for the demo site, loaded from the server's own origin."""

from __future__ import annotations

import urllib.request

import pytest

from clickport.demo import DEMO_DOMAIN


@pytest.mark.parametrize("path", ["/demo/", "/demo"])
def test_the_local_server_serves_the_demo_page_with_the_tracker_for_the_demo_site(server, path):
    with urllib.request.urlopen(server + path, timeout=10) as answer:
        status, content_type, html = answer.status, answer.headers["Content-Type"], answer.read().decode()
    assert (status, content_type) == (200, "text/html; charset=utf-8")
    assert f'<script defer data-domain="{DEMO_DOMAIN}" data-allow-localhost src="/cp.js"></script>' in html
    assert "{{" not in html
