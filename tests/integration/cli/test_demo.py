"""`clickport demo`: 30 days of traffic through the import path, refreshed (not doubled) on a second run."""

import json

from clickport.cli.main import main
from tests.support.events import stored_rows


def test_demo_creates_then_refreshes_the_demo_site(tmp_path, monkeypatch, capsys, gateway, runtime):
    monkeypatch.setenv("CLICKPORT_DATA_DIR", str(runtime.settings.data_dir))
    assert main(["--json", "demo"]) == 0
    first = json.loads(capsys.readouterr().out)
    rows = stored_rows(runtime.settings.data_dir)
    assert first["events"] == len(rows) > 5000
    days = {r["ts"].date() for r in rows}
    assert len(days) == 30
    assert {r["type"] for r in rows} == {"pageview", "engagement", "custom", "click", "form"}
    assert {r["revenue_currency"] for r in rows if r["revenue_micros"]} == {"USD", "EUR"}

    assert main(["--json", "demo"]) == 0
    second = json.loads(capsys.readouterr().out)
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
