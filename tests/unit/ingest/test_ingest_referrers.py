"""The known-referrer list: its file is well formed, and hosts and utm_source values resolve."""

import json

import pytest

from clickport.ingest.referrers import CATEGORIES, REFERRERS_FILE, known_source_for_host, known_source_for_utm

ENTRIES = json.loads(REFERRERS_FILE.read_text(encoding="utf-8"))["sources"]


def test_every_entry_is_well_formed():
    for entry in ENTRIES:
        assert set(entry) <= {"name", "category", "domains", "aliases"}, entry
        assert entry["name"] == entry["name"].strip().lower(), entry
        assert entry.get("category", "search") in CATEGORIES, entry
        assert entry["domains"], entry
        for domain in entry["domains"]:
            assert domain == domain.strip().lower() and not domain.startswith("www."), domain


def test_names_and_domains_are_unique():
    names = [entry["name"] for entry in ENTRIES]
    domains = [domain for entry in ENTRIES for domain in entry["domains"]]
    assert len(names) == len(set(names))
    assert sorted(d for d in set(domains) if domains.count(d) > 1) == []


def test_every_category_has_sources():
    assert {entry.get("category") for entry in ENTRIES} - {None} == CATEGORIES


@pytest.mark.parametrize(
    ("host", "name", "category"),
    [
        ("www.google.com", "google", "search"),
        ("google.de", "google", "search"),
        ("GOOGLE.CO.UK.", "google", "search"),
        ("mail.google.com", "gmail", "email"),
        ("gemini.google.com", "gemini", "ai"),
        ("mail.yahoo.com", "yahoo mail", "email"),
        ("uk.search.yahoo.com", "yahoo", "search"),
        ("www.pinterest.de", "pinterest", "social"),
        ("github.com", "github", None),
    ],
)
def test_known_source_for_host_prefers_the_most_specific_entry(host, name, category):
    known = known_source_for_host(host)
    assert known is not None and (known.name, known.category) == (name, category)


@pytest.mark.parametrize("host", ["", "com", "docs.google.com", "google.example.org", "mygoogle.com", "co.uk"])
def test_unknown_hosts_have_no_known_source(host):
    assert known_source_for_host(host) is None


@pytest.mark.parametrize(
    ("utm_source", "name"),
    [
        ("google", "google"),
        ("Google", "google"),
        ("fb", "facebook"),
        ("ig", "instagram"),
        ("chatgpt.com", "chatgpt"),
        ("https://www.reddit.com/r/x", "reddit"),
        ("hacker news", "hackernews"),
        ("  linkedin ", "linkedin"),
    ],
)
def test_known_source_for_utm_accepts_names_aliases_and_domains(utm_source, name):
    known = known_source_for_utm(utm_source)
    assert known is not None and known.name == name


@pytest.mark.parametrize("utm_source", ["", "newsletter", "spring_promo", "unknown.example"])
def test_unknown_utm_sources_have_no_known_source(utm_source):
    assert known_source_for_utm(utm_source) is None
