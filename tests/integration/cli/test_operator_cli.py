"""The operator CLI (spec §9): commands, --json output, one-line errors, persistence across processes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clickport.cli.main import main

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CLICKPORT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CLICKPORT_BACKEND", raising=False)

    def run(*args):
        try:
            status = main(list(args))
        except SystemExit as exit_:
            status = exit_.code
        out, err = capsys.readouterr()
        return status, out, err

    return run


def _json(cli, *args):
    status, out, err = cli(*args, "--json")
    assert status == 0, err
    return json.loads(out)


def test_sites_keys_goals_round_trip_with_json(cli):
    site = _json(cli, "sites", "create", "--domain", "Example.com")
    assert list(site) == ["site_id"] and site["site_id"].startswith("s_")
    assert [(s["site_id"], s["domain"]) for s in _json(cli, "sites", "list")] == [(site["site_id"], "example.com")]
    updated = _json(cli, "sites", "update", site["site_id"], "--allow-host", "*example.com", "--allow-host", "shop.test")
    assert updated["allow_hosts"] == ["*example.com", "shop.test"]

    key = _json(cli, "keys", "create", "--site", site["site_id"])
    assert key["key"].startswith("ck_") and key["permissions"] == ["read", "tracker"]
    read_only = _json(cli, "keys", "create", "--site", site["site_id"], "--read")
    assert read_only["permissions"] == ["read"]
    listed = _json(cli, "keys", "list", "--site", site["site_id"])
    assert {k["prefix"] for k in listed} == {key["prefix"], read_only["prefix"]}
    assert all("key" not in k for k in listed)

    goal = _json(cli, "goals", "create", "--site", site["site_id"], "--type", "pageview", "--path", "/thank-you*")
    assert goal == {"id": 1, "name": "/thank-you*", "type": "pageview"}
    custom = _json(cli, "goals", "create", "--site", site["site_id"], "--type", "custom", "--event", "Purchase",
                   "--prop", "plan=pro", "--name", "Pro purchase")
    assert custom == {"id": 2, "name": "Pro purchase", "type": "custom"}
    click = _json(cli, "goals", "create", "--site", site["site_id"], "--type", "click", "--domain", "partner.example.com")
    form = _json(cli, "goals", "create", "--site", site["site_id"], "--type", "form", "--form-id", "contact")
    assert (click["name"], form["name"]) == ("partner.example.com", "contact")
    goals = _json(cli, "goals", "list", "--site", site["site_id"])
    assert [g["id"] for g in goals] == [1, 2, 3, 4]
    assert goals[1]["definition"] == {"event": "Purchase", "prop": ["plan", "pro"]}
    assert _json(cli, "goals", "delete", "--site", site["site_id"], "2") == {"deleted": 2}
    assert [g["id"] for g in _json(cli, "goals", "list", "--site", site["site_id"])] == [1, 3, 4]


def test_revoke_by_prefix_and_ambiguity(cli, tmp_path):
    site = _json(cli, "sites", "create", "--domain", "example.com")["site_id"]
    keys = [_json(cli, "keys", "create", "--site", site) for _ in range(2)]
    status, _, err = cli("keys", "revoke", "ck_")
    assert status == 1 and "ambiguous" in err and keys[0]["prefix"] in err and keys[1]["prefix"] in err
    assert len(err.strip().splitlines()) == 1
    revoked = _json(cli, "keys", "revoke", keys[0]["prefix"])
    assert revoked["revoked"] == keys[0]["prefix"]
    states = {k["prefix"]: k["revoked_at"] for k in _json(cli, "keys", "list", "--site", site)}
    assert states[keys[0]["prefix"]] is not None and states[keys[1]["prefix"]] is None


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("sites", "create"), "--domain"),
        (("sites", "create", "--domain", "not a domain"), "not a domain"),
        (("keys", "create", "--site", "s_missing"), "unknown site"),
        (("goals", "create", "--site", "s_missing", "--type", "custom", "--event", "x"), "unknown site"),
        (("goals", "create", "--site", "x", "--type", "custom"), "--event"),
        (("goals", "create", "--site", "x", "--type", "pageview", "--path", "/a", "--event", "b"), "--event"),
        (("goals", "create", "--site", "x", "--type", "bogus"), "invalid choice"),
        (("goals", "delete", "--site", "x", "notanumber"), "invalid int"),
        (("keys", "revoke", "ck_nothing"), "no key"),
        (("frobnicate",), "invalid choice"),
    ],
)
def test_wrong_arguments_give_one_line_and_nonzero_exit(cli, args, fragment):
    status, out, err = cli(*args)
    assert status != 0
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("clickport: error:") and fragment in err
    assert "Traceback" not in err + out


def test_domains_are_unique_across_sites(cli):
    _json(cli, "sites", "create", "--domain", "example.com")
    status, _, err = cli("sites", "create", "--domain", "EXAMPLE.com")
    assert status == 1 and "already belongs" in err


def test_allow_hosts_are_added_removed_and_cleared_keeping_the_sites_own_pages(cli):
    site = _json(cli, "sites", "create", "--domain", "example.com")["site_id"]
    # The first pattern also adds *example.com: a list replaces the default rule (spec §8), and the site's own
    # pages and subdomains must keep counting.
    assert _json(cli, "sites", "update", site, "--allow-host", "Shop.Test")["allow_hosts"] == ["*example.com", "shop.test"]
    assert _json(cli, "sites", "update", site, "--allow-host", "*partner.test", "--allow-host", "shop.test")[
        "allow_hosts"] == ["*example.com", "shop.test", "*partner.test"]
    assert _json(cli, "sites", "update", site, "--remove-allow-host", "shop.test")["allow_hosts"] == [
        "*example.com", "*partner.test"]
    status, _, err = cli("sites", "update", site, "--remove-allow-host", "nothere.test")
    assert status == 1 and "'nothere.test' is not in the allow-list" in err and "*partner.test" in err
    assert _json(cli, "sites", "update", site, "--remove-allow-host", "*example.com")["allow_hosts"] == ["*partner.test"]
    listed = _json(cli, "sites", "list")
    assert listed[0]["allow_hosts"] == ["*partner.test"]
    assert _json(cli, "sites", "update", site, "--clear-allow-hosts")["allow_hosts"] == []
    status, out, _ = cli("sites", "update", site, "--clear-allow-hosts")
    assert status == 0 and "(none: example.com and its subdomains)" in out
    status, _, err = cli("sites", "update", site)
    assert status == 1 and "--remove-allow-host" in err


def test_duplicate_goal_names_are_refused(cli):
    site = _json(cli, "sites", "create", "--domain", "example.com")["site_id"]
    _json(cli, "goals", "create", "--site", site, "--type", "custom", "--event", "Signup")
    status, _, err = cli("goals", "create", "--site", site, "--type", "custom", "--event", "Signup")
    assert status == 1 and "already has a goal named 'Signup'" in err


def test_state_survives_across_processes(tmp_path):
    env = {**os.environ, "CLICKPORT_DATA_DIR": str(tmp_path / "data")}
    binary = [sys.executable, "-m", "clickport.cli.main"]
    created = subprocess.run(binary + ["sites", "create", "--domain", "example.com", "--json"], env=env,
                             capture_output=True, text=True, check=True)
    site = json.loads(created.stdout)["site_id"]
    listed = subprocess.run(binary + ["--json", "sites", "list"], env=env, capture_output=True, text=True, check=True)
    assert json.loads(listed.stdout)[0]["site_id"] == site


@pytest.mark.parametrize("args", [["sites", "list"], ["--json", "sites", "list"]])
def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path, args):
    """``clickport … | head``: the pipe's reader closes before the command writes; no traceback, the status
    of a Unix tool stopped by a closed pipe."""
    env = {**os.environ, "CLICKPORT_DATA_DIR": str(tmp_path / "data")}
    binary = [sys.executable, "-m", "clickport.cli.main"]
    for domain in ("a.example", "b.example"):
        subprocess.run(binary + ["sites", "create", "--domain", domain], env=env, capture_output=True, check=True)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    try:
        done = subprocess.run(binary + args, env=env, stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert done.returncode == 141, done.stderr
    assert done.stderr == ""
