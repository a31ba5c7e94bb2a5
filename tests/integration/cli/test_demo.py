"""`clickport demo`: 30 days of traffic in its own site, through the import path; a second run replaces the demo's
own events (not doubled) and keeps every event it did not create; on AWS only when asked."""

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from clickport.cli.main import main
from clickport.demo import DEMO_DOMAIN
from tests.conftest import BROWSER_UA
from tests.support.events import stored_rows


@pytest.fixture
def local_cli(monkeypatch, runtime):
    monkeypatch.setenv("CLICKPORT_DATA_DIR", str(runtime.settings.data_dir))
    monkeypatch.delenv("CLICKPORT_BACKEND", raising=False)
    return runtime


def _demo(capsys) -> dict:
    assert main(["--json", "demo"]) == 0
    return json.loads(capsys.readouterr().out)


def test_demo_creates_then_refreshes_the_demo_site(local_cli, capsys, gateway):
    runtime = local_cli
    first = _demo(capsys)
    assert first["domain"] == DEMO_DOMAIN
    rows = stored_rows(runtime.settings.data_dir)
    assert first["events"] == len(rows) > 5000
    days = {r["ts"].date() for r in rows}
    today = datetime.now(timezone.utc).date()
    # 30 days up to now: the 29 before today in full, today up to now (just after midnight UTC it may have none)
    assert days - {today} == {today - timedelta(days=n) for n in range(1, 30)}
    assert {r["type"] for r in rows} == {"pageview", "engagement", "custom", "click", "form"}
    assert {r["revenue_currency"] for r in rows if r["revenue_micros"]} == {"USD", "EUR"}

    second = _demo(capsys)
    assert second["site_id"] == first["site_id"] and second["key"] != first["key"]
    assert len(stored_rows(runtime.settings.data_dir)) == second["events"]  # replaced, not added

    status, _, body = gateway("POST", "/api/query", body={"metrics": ["visitors", "sessions", "conversions"],
                                                          "period": "30d"}, headers={"x-api-key": second["key"]})
    assert status == 200
    results = body["results"]
    assert 0 < results["visitors"] < results["sessions"] and results["conversions"] > 0
    _, _, goals = gateway("GET", "/api/goals?start_date=2020-01-01&end_date=2030-01-01",
                          headers={"x-api-key": second["key"]})
    assert "goals" in goals, goals
    assert [g["name"] for g in goals["goals"]] == ["Signup", "Purchase", "Visited pricing", "Contact form",
                                                  "GitHub clicks"]


def test_demo_keeps_the_events_it_did_not_create(local_cli, capsys, gateway):
    runtime = local_cli
    first = _demo(capsys)
    # Someone tries the demo site: an event through the API (as the banner's curl line sends it).
    status, _, answer = gateway("POST", "/api/event", body={"url": f"https://{DEMO_DOMAIN}/mine"},
                                headers={"x-api-key": first["key"], "User-Agent": BROWSER_UA})
    assert (status, answer["success"]) == (200, True)

    second = _demo(capsys)

    rows = [r for r in stored_rows(runtime.settings.data_dir) if r["site_id"] == second["site_id"]]
    assert [r["path"] for r in rows if r["path"] == "/mine"] == ["/mine"]
    assert len(rows) == second["events"] + 1


def test_demo_never_writes_into_a_site_it_did_not_create(local_cli, capsys, gateway):
    runtime = local_cli
    mine = runtime.config.create_site("example.com")
    from clickport.domain.keys import issue_key

    key, _ = issue_key(runtime.config, mine.site_id, ["tracker"])
    gateway("POST", "/api/event", body={"url": "https://example.com/real"},
            headers={"x-api-key": key, "User-Agent": BROWSER_UA})

    demo = _demo(capsys)
    _demo(capsys)

    assert demo["site_id"] != mine.site_id
    real = [r for r in stored_rows(runtime.settings.data_dir) if r["site_id"] == mine.site_id]
    assert [r["path"] for r in real] == ["/real"]


def test_demo_site_accepts_the_local_demo_page_and_no_other_site_does(local_cli, capsys, gateway):
    runtime = local_cli
    mine = runtime.config.create_site("example.com")
    demo = _demo(capsys)

    def track(domain: str, url: str):
        status, _, answer = gateway("POST", "/api/track", body={"type": "pageview", "url": url, "domain": domain},
                                    headers={"User-Agent": BROWSER_UA})
        assert status == 200
        return answer.get("reason", "stored") if not answer["success"] else "stored"

    for host in ("127.0.0.1:8787", "localhost:8787", "[::1]:8787"):
        assert track(DEMO_DOMAIN, f"http://{host}/demo/") == "stored"
    assert track(DEMO_DOMAIN, f"https://www.{DEMO_DOMAIN}/pricing") == "stored"
    assert track(DEMO_DOMAIN, "https://elsewhere.example.net/") == "hostname"
    assert track(mine.domain, "http://127.0.0.1:8787/") == "hostname"  # other sites keep their rule
    assert runtime.config.get_site(mine.site_id).allow_hosts == ()
    assert runtime.config.get_site(demo["site_id"]).allow_hosts == (
        f"*{DEMO_DOMAIN}", "127.0.0.1", "localhost", "::1")


# --- on a deployed stack ---------------------------------------------------------------------------------


def test_demo_on_aws_refuses_without_allow_aws_and_touches_nothing(monkeypatch, capsys):
    from tests.support.aws import aws_stack

    with aws_stack(monkeypatch) as stack:
        monkeypatch.setattr("clickport.cli.commands.runtime_for", lambda args: pytest.fail("read the stack"))
        with pytest.raises(SystemExit) as done:
            main(["--aws", "demo"])
        assert done.value.code == 2
        assert capsys.readouterr().err == (
            "clickport: error: demo would write 30 days of synthetic events (about 20,000) into the deployed "
            f"stack, in a new site '{DEMO_DOMAIN}'; add --allow-aws to do that\n")
        assert stack.runtime.config.get_site_by_domain(DEMO_DOMAIN) is None and stack.stored_objects() == []
        monkeypatch.setenv("CLICKPORT_BACKEND", "aws")
        with pytest.raises(SystemExit) as done:
            main(["demo"])
        assert done.value.code == 2


def test_demo_on_aws_with_allow_aws_fills_a_new_site_once_and_deletes_nothing(monkeypatch, capsys):
    from tests.support.aws import BUCKET, REGION, aws_stack

    with aws_stack(monkeypatch) as stack:
        monkeypatch.setattr("clickport.cli.commands.runtime_for", lambda args: stack.runtime)
        assert main(["--aws", "--json", "demo", "--allow-aws"]) == 0
        first = json.loads(capsys.readouterr().out)
        assert first["domain"] == DEMO_DOMAIN and first["events"] > 5000
        assert stack.runtime.config.get_site(first["site_id"]).allow_hosts == ()  # no local page on AWS
        delivered = stack.stored_objects()
        assert delivered

        assert main(["--aws", "demo", "--allow-aws"]) == 0
        text = capsys.readouterr().out
        assert text.startswith(f"demo site {first['site_id']} ({DEMO_DOMAIN}): it exists already, so nothing was "
                               "written (on AWS the demo writes a new site once)\nkey: ck_")
        assert stack.stored_objects() == delivered
        assert boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET)["KeyCount"] == len(delivered)
