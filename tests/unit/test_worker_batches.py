"""A worker runs a batch of invocations one by one and answers none before their shared journal commit."""

from __future__ import annotations

import json

from clickport.adapters.event_journal import JournalWriter
from clickport.local.workers import run_batch
from tests.support.events import stored_rows

DAY = 1_764_460_800_000


def _event(n: int, *, writes: bool = True, fails: bool = False) -> dict:
    return {"n": n, "writes": writes, "fails": fails, "requestContext": {"requestId": f"r{n}"}}


def _handler(journal: JournalWriter, seen: list):
    def handler(event, context):
        seen.append((event["n"], context.aws_request_id))
        if event["fails"]:
            raise RuntimeError("a bug in the function")
        if event["writes"]:
            journal.write("s_a", [{"ts": DAY + event["n"], "seq": 0, "type": "pageview", "path": f"/{event['n']}",
                                   "session_id": 1, "visitor_id": 1}])
        return {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "*"}, "body": json.dumps(event["n"])}

    return handler


def test_each_invocation_gets_its_own_answer_in_order(tmp_path):
    journal, seen = JournalWriter(tmp_path), []
    events = [_event(0), _event(1, writes=False), _event(2, fails=True), _event(3)]
    results = run_batch("event", _handler(journal, seen), journal, events)
    assert [r["statusCode"] for r in results] == [200, 200, 500, 200]
    assert [json.loads(r["body"]) for r in results[:2]] == [0, 1] and json.loads(results[3]["body"]) == 3
    assert "r2" in json.loads(results[2]["body"])["message"]  # the failed one names its request id
    assert [n for n, _ in seen] == [0, 1, 2, 3]
    assert len({request_id for _, request_id in seen}) == 4  # a context of its own each
    from clickport.adapters.event_journal import EventJournal

    EventJournal(tmp_path).flush()
    assert sorted(r["path"] for r in stored_rows(tmp_path)) == ["/0", "/3"]


def test_a_failed_commit_answers_503_to_exactly_the_invocations_that_wrote(tmp_path, monkeypatch):
    journal, seen = JournalWriter(tmp_path), []
    monkeypatch.setattr(journal, "commit", lambda: False)
    results = run_batch("event", _handler(journal, seen), journal, [_event(0), _event(1, writes=False), _event(2)])
    assert [r["statusCode"] for r in results] == [503, 200, 503]
    assert json.loads(results[0]["body"])["error"] and results[0]["headers"]["Access-Control-Allow-Origin"] == "*"
