"""One memoized User-Agent parse (the user-agents library), shared by the bot check and technology."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from user_agents.parsers import UserAgent

PARSE_CACHE_SIZE = 4096


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse_user_agent(user_agent: str) -> UserAgent:
    """The parsed User-Agent; imported lazily, since loading the parser's regexes takes ~0.2 s."""
    from user_agents import parse

    return parse(user_agent)
