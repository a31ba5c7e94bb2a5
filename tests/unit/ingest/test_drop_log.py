"""Locally, every dropped event is logged with its reason and what it means (and never who sent it)."""

from __future__ import annotations

import logging

import pytest

from clickport.ingest.drops import DROP_EXPLANATIONS, DROP_REASONS, DropCounter, read_drop_counts


@pytest.mark.parametrize("reason", DROP_REASONS)
def test_a_local_drop_is_logged_with_its_reason_and_counted(tmp_path, caplog, reason):
    with caplog.at_level(logging.INFO, logger="clickport.drops"):
        DropCounter(tmp_path).count(reason)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", f"event dropped: {reason}: {DROP_EXPLANATIONS[reason]}")]
    assert read_drop_counts(tmp_path)[reason] == 1


def test_every_reason_has_an_explanation():
    assert set(DROP_EXPLANATIONS) == set(DROP_REASONS)


def test_on_aws_a_drop_is_a_metric_not_a_log_line(caplog):
    seen = []
    with caplog.at_level(logging.INFO, logger="clickport.drops"):
        DropCounter(on_drop=seen.append).count("bot")
    assert seen == ["bot"] and caplog.records == []


def test_a_batch_writes_its_drop_counts_once_when_it_ends(tmp_path, monkeypatch):
    """The local event worker runs a batch inside ``counts_written_after``: its drops reach drops.json together,
    when the batch ends (before any of it is answered), and none is lost."""
    from clickport.ingest.drops import counts_written_after

    counter = DropCounter(tmp_path)
    writes = []
    real = counter._flush_locked
    monkeypatch.setattr(counter, "_flush_locked", lambda: (writes.append(1), real()))
    with counts_written_after():
        for reason in ("rate_limited", "rate_limited", "bot"):
            counter.count(reason)
        assert writes == [] and read_drop_counts(tmp_path)["rate_limited"] == 0
    assert len(writes) == 1
    assert read_drop_counts(tmp_path) == {**{r: 0 for r in DROP_REASONS}, "rate_limited": 2, "bot": 1}
    counter.count("hostname")  # outside a batch: written at once
    assert len(writes) == 2 and read_drop_counts(tmp_path)["hostname"] == 1
