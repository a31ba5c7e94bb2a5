"""The bot filter on the tuning part of the labelled User-Agent corpora (tests/support/ua_corpus.py).

The held-back part is never read here: ``bench/bot_bench.py`` reports its rates in docs/benchmarks.md.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from clickport.ingest import bot_patterns
from clickport.ingest.bots import is_bot
from tests.support import ua_corpus

ROOT = Path(__file__).resolve().parents[3]
GENERATOR = ROOT / "bench" / "ua-corpus" / "generate_bot_patterns.py"

BOTS_CAUGHT_AT_LEAST = 0.95
BROWSERS_DROPPED_AT_MOST = 0.001


@pytest.fixture(scope="module")
def tuning() -> ua_corpus.Corpus:
    return ua_corpus.tuning()


@pytest.fixture(scope="module")
def verdicts(tuning) -> dict[str, bool]:
    """is_bot of every tuning string, computed once (the corpus is larger than the filter's cache)."""
    return {ua: is_bot(ua) for ua in (*tuning.bots, *tuning.browsers)}


def _by_source(labelled: dict[str, str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for ua, source in labelled.items():
        groups.setdefault(source, []).append(ua)
    return groups


def test_the_corpus_is_large_and_split_before_tuning(tuning):
    everything = ua_corpus.load()
    assert len(everything.bots) > 3_000 and len(everything.browsers) > 30_000
    share = (len(everything.bots) + len(everything.browsers) - len(tuning.bots) - len(tuning.browsers)) / (
        len(everything.bots) + len(everything.browsers)
    )
    assert 0.28 < share < 0.32  # the held-back part: 30 % by hash
    assert all(ua_corpus.split_of(ua) == ua_corpus.TUNING for ua in list(tuning.bots) + list(tuning.browsers))


def test_at_least_95_percent_of_the_tuning_bots_are_caught(tuning, verdicts):
    missed = [ua for ua in tuning.bots if not verdicts[ua]]
    assert 1 - len(missed) / len(tuning.bots) >= BOTS_CAUGHT_AT_LEAST, missed[:20]


def test_at_most_a_thousandth_of_the_tuning_browsers_is_dropped(tuning, verdicts):
    dropped = [ua for ua in tuning.browsers if verdicts[ua]]
    assert len(dropped) / len(tuning.browsers) <= BROWSERS_DROPPED_AT_MOST, dropped[:20]


def test_every_source_alone_meets_the_targets(tuning, verdicts):
    for source, uas in _by_source(tuning.bots).items():
        caught = sum(verdicts[ua] for ua in uas) / len(uas)
        assert caught >= BOTS_CAUGHT_AT_LEAST, (source, caught)
    for source, uas in _by_source(tuning.browsers).items():
        dropped = sum(verdicts[ua] for ua in uas) / len(uas)
        assert dropped <= BROWSERS_DROPPED_AT_MOST, (source, dropped)


def test_the_generated_patterns_match_the_pinned_lists():
    """bot_patterns.py is what the generator makes from the installed device_detector and npm isbot."""
    check = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_every_left_out_pattern_is_a_look_around():
    assert bot_patterns.SKIPPED
    for source, pattern, reason in bot_patterns.SKIPPED:
        assert any(marker in pattern for marker in ("(?=", "(?!", "(?<=", "(?<!")), (source, pattern)
        assert reason.startswith("look-around")
