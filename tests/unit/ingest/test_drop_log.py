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
