"""One memoized User-Agent parse (the user-agents library), shared by the bot check and technology."""

from __future__ import annotations

import importlib.util
import sys
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from user_agents.parsers import UserAgent

PARSE_CACHE_SIZE = 4096
LEGACY_PARSER = "ua_parser.user_agent_parser"


def _lazy_legacy_parser() -> ModuleType:
    """ua-parser's legacy module, loaded only if something uses it.

    ``user_agents.parsers`` imports it at the top, and importing it compiles its ~1,300 regexes with
    Python's ``re`` (measured: 0.35 s of the event function's first request on x86, every cold start),
    although ``FastUserAgent`` below never calls it. Under ``importlib.util.LazyLoader`` the module runs
    on its first attribute access instead, i.e. never here.
    """
    if LEGACY_PARSER in sys.modules:
        return sys.modules[LEGACY_PARSER]
    import ua_parser

    spec = importlib.util.find_spec(LEGACY_PARSER)
    if spec is None or spec.loader is None:
        raise ImportError(LEGACY_PARSER)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[LEGACY_PARSER] = module
    loader.exec_module(module)
    ua_parser.user_agent_parser = module
    return module


def _fast_user_agent_class():
    """user-agents' ``UserAgent``, fed by ua-parser's compiled (RE2) resolver instead of its legacy API,
    which tries the regexes one by one in Python (~0.9 ms per new UA against ~0.04 ms)."""
    import ua_parser

    _lazy_legacy_parser()
    from user_agents.parsers import UserAgent, parse_browser, parse_device, parse_operating_system

    class FastUserAgent(UserAgent):
        def __init__(self, user_agent_string: str):
            result = ua_parser.parse(user_agent_string).with_defaults()
            agent, os, device = result.user_agent, result.os, result.device
            self.ua_string = user_agent_string
            self.os = parse_operating_system(os.family, os.major, os.minor, os.patch, os.patch_minor)
            self.browser = parse_browser(agent.family, agent.major, agent.minor, agent.patch)
            self.device = parse_device(device.family, device.brand, device.model)

    return FastUserAgent


@lru_cache(maxsize=1)
def _user_agent_class():
    return _fast_user_agent_class()


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse_user_agent(user_agent: str) -> UserAgent:
    """The parsed User-Agent; the parser loads lazily, since compiling its regexes takes a moment."""
    return _user_agent_class()(user_agent)
