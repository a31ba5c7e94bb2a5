"""Labelled User-Agent corpora for the bot filter, read from pinned packages (nothing is fetched at run time).

Sources (versions pinned in pyproject.toml's ``dev`` extra and ``bench/ua-corpus/package.json``):

- ``device_detector`` (PyPI; Matomo Device Detector's fixtures, LGPL-3.0): ``bots.yml`` → bot; entries whose
  client type is ``library`` → bot (HTTP libraries count as bots here, spec §5.2); client type ``browser`` →
  browser; client type ``mobile app`` with a ``Mozilla/`` User-Agent (an app's WebView or in-app browser) →
  browser. Other entries (feed readers, media players, native app calls, unknown) carry no label and are
  left out.
- ``user-agents`` (npm, BSD-2-Clause): ``dist/user-agents.json``, User-Agents of real browser traffic →
  browser.
- ``crawler-user-agents`` (PyPI, MIT): every ``instances`` example → bot.

A string labelled both ways is left out (``conflicts``). Each string is assigned once, by a hash decided
before any tuning, to the tuning part (70 %) or the held-back part (30 %); the held-back part is only read
by ``bench/bot_bench.py`` for ``docs/benchmarks.md``, never by a test or while tuning.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml_rs  # installed with device_detector; parses its 20 MB of fixtures ~12x faster than PyYAML

ROOT = Path(__file__).resolve().parents[2]
NPM_DIR = ROOT / "bench" / "ua-corpus" / "node_modules"
USER_AGENTS_JSON = NPM_DIR / "user-agents" / "dist" / "user-agents.json"

SPLIT_SALT = b"clickport-bot-corpus/v1\n"
HELD_BACK_PERCENT = 30

TUNING = "tuning"
HELD_BACK = "held-back"


def split_of(user_agent: str) -> str:
    """The part a string belongs to: a hash of the string alone, so it never moves between parts."""
    digest = hashlib.sha256(SPLIT_SALT + user_agent.encode("utf-8", "surrogatepass")).digest()
    return HELD_BACK if int.from_bytes(digest[:4], "big") % 100 < HELD_BACK_PERCENT else TUNING


@dataclass
class Corpus:
    """User-Agents by label, each with its source, plus what was left out."""

    bots: dict[str, str] = field(default_factory=dict)  # user agent -> source
    browsers: dict[str, str] = field(default_factory=dict)
    conflicts: set[str] = field(default_factory=set)

    def part(self, name: str) -> Corpus:
        return Corpus(
            bots={ua: s for ua, s in self.bots.items() if split_of(ua) == name},
            browsers={ua: s for ua, s in self.browsers.items() if split_of(ua) == name},
        )


def _device_detector_fixtures() -> list[dict]:
    folder = resources.files("device_detector") / "tests" / "fixtures" / "upstream"
    entries: list[dict] = []
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yml"):
            loaded = yaml_rs.loads(item.read_text(encoding="utf-8"))
            entries.extend((dict(e, _file=item.name) for e in loaded or () if isinstance(e, dict)))
    return entries


def _labelled() -> list[tuple[str, str, str]]:
    """(user agent, label, source) from every source."""
    rows: list[tuple[str, str, str]] = []
    for entry in _device_detector_fixtures():
        ua = entry.get("user_agent")
        if not isinstance(ua, str) or not ua:
            continue
        if entry["_file"] == "bots.yml" or entry.get("bot"):
            rows.append((ua, "bot", "device_detector bots"))
            continue
        client = entry.get("client") or {}
        kind = client.get("type") if isinstance(client, dict) else None
        if kind == "library":
            rows.append((ua, "bot", "device_detector libraries"))
        elif kind == "browser":
            rows.append((ua, "browser", "device_detector browsers"))
        elif kind == "mobile app" and ua.startswith("Mozilla/"):
            rows.append((ua, "browser", "device_detector app webviews"))
    for record in json.loads(USER_AGENTS_JSON.read_text(encoding="utf-8")):
        rows.append((record["userAgent"], "browser", "user-agents (npm)"))
    from crawleruseragents import CRAWLER_USER_AGENTS_DATA

    for entry in CRAWLER_USER_AGENTS_DATA:
        for ua in entry.get("instances", ()):
            rows.append((ua, "bot", "crawler-user-agents"))
    return rows


@lru_cache(maxsize=1)
def load() -> Corpus:
    """Every labelled string once, across both parts."""
    corpus = Corpus()
    for ua, label, source in _labelled():
        if ua in corpus.conflicts:
            continue
        mine, other = (corpus.bots, corpus.browsers) if label == "bot" else (corpus.browsers, corpus.bots)
        if ua in other:
            del other[ua]
            corpus.conflicts.add(ua)
            continue
        mine.setdefault(ua, source)
    return corpus


def tuning() -> Corpus:
    return load().part(TUNING)
