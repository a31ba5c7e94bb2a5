"""The fast parse gives exactly what user-agents' own parse gives, on real and generated UAs."""

import random

import pytest
from user_agents import parse as legacy_parse

from clickport.ingest.useragent import parse_user_agent

REAL = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 "
    "Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 "
    "Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 "
    "Edg/131.0.0.0",
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.5.0",
    "",
]


def _view(agent):
    return (agent.browser, agent.os, agent.device, agent.is_mobile, agent.is_tablet, agent.is_pc, agent.is_bot,
            agent.is_touch_capable)


@pytest.mark.parametrize("user_agent", REAL)
def test_fast_parse_equals_user_agents_parse(user_agent):
    assert _view(parse_user_agent(user_agent)) == _view(legacy_parse(user_agent))


def test_fast_parse_equals_user_agents_parse_on_generated_variety():
    from bench.ingest_bench import user_agents

    for user_agent in user_agents(random.Random(11), 400):
        assert _view(parse_user_agent(user_agent)) == _view(legacy_parse(user_agent)), user_agent
