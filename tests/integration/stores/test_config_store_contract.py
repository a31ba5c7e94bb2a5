"""ConfigStore contract: every test runs against SQLite and DynamoDB (moto)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from clickport.errors import Conflict
from clickport.ports import ApiKeyRecord

CREATED = datetime(2025, 6, 15, 12, 30, 45, 123456, tzinfo=timezone.utc)


def key_record(key_hash: str, site_id: str, **overrides) -> ApiKeyRecord:
    fields = dict(
        key_hash=key_hash,
        prefix="ck_" + key_hash[:8],
        site_id=site_id,
        permissions=frozenset({"read", "tracker"}),
        created_at=CREATED,
        revoked_at=None,
    )
    fields.update(overrides)
    return ApiKeyRecord(**fields)


# Sites


def test_create_site_returns_a_new_site_with_a_readable_id(config_store):
    before = datetime.now(timezone.utc)
    site = config_store.create_site("example.com")
    assert re.fullmatch(r"s_[a-z0-9]{10}", site.site_id)
    assert site.domain == "example.com"
    assert before - timedelta(seconds=1) <= site.created_at <= datetime.now(timezone.utc)
    assert (site.allow_hosts, site.first_event_date) == ((), None)
    assert config_store.get_site(site.site_id) == site


def test_site_ids_are_distinct(config_store):
    ids = {config_store.create_site(f"site{i}.example").site_id for i in range(20)}
    assert len(ids) == 20


def test_unknown_site_is_none(config_store):
    assert config_store.get_site("s_0000000000") is None
    assert config_store.get_site_by_domain("nobody.example") is None


@pytest.mark.parametrize("second", ["example.com", "Example.COM", " example.com "])
def test_a_domain_belongs_to_one_site(config_store, second):
    first = config_store.create_site("example.com")
    with pytest.raises(Conflict):
        config_store.create_site(second)
    assert config_store.list_sites() == [first]


def test_get_site_by_domain_ignores_case(config_store):
    site = config_store.create_site("Shop.Example.com")
    assert site.domain == "shop.example.com"
    assert config_store.get_site_by_domain("shop.example.com") == site
    assert config_store.get_site_by_domain("SHOP.example.COM") == site


def test_list_sites_lists_every_site_oldest_first(config_store):
    created = [config_store.create_site(domain) for domain in ["a.example", "b.example", "c.example"]]
    assert config_store.list_sites() == created


def test_list_sites_of_an_empty_store_is_empty(config_store):
    assert config_store.list_sites() == []


def test_update_site_sets_allow_hosts(config_store):
    site = config_store.create_site("example.com")
    updated = config_store.update_site(site.site_id, allow_hosts=["example.com", "*example.org"])
    assert updated.allow_hosts == ("example.com", "*example.org")
    assert updated.site_id == site.site_id and updated.domain == site.domain
    assert config_store.get_site(site.site_id) == updated
    assert config_store.update_site(site.site_id, allow_hosts=[]).allow_hosts == ()
    assert config_store.get_site_by_domain("example.com").allow_hosts == ()


def test_update_of_an_unknown_site_raises_key_error(config_store):
    with pytest.raises(KeyError):
        config_store.update_site("s_0000000000", allow_hosts=["x.example"])


def test_note_event_date_only_lowers_first_event_date(config_store):
    site = config_store.create_site("example.com")
    for noted, expected in [
        (date(2025, 5, 10), date(2025, 5, 10)),
        (date(2025, 6, 1), date(2025, 5, 10)),
        (date(2025, 5, 10), date(2025, 5, 10)),
        (date(2024, 12, 31), date(2024, 12, 31)),
    ]:
        config_store.note_event_date(site.site_id, noted)
        assert config_store.get_site(site.site_id).first_event_date == expected, f"after noting {noted}"


def test_note_event_date_of_an_unknown_site_raises_key_error(config_store):
    with pytest.raises(KeyError):
        config_store.note_event_date("s_0000000000", date(2025, 1, 1))


# API keys


@pytest.mark.parametrize(
    "overrides",
    [{}, {"permissions": frozenset({"read"})}, {"revoked_at": CREATED + timedelta(days=1)}],
    ids=["both-permissions", "read-only", "revoked"],
)
def test_key_record_round_trips(config_store, overrides):
    record = key_record("a" * 64, "s_site000001", **overrides)
    config_store.put_key(record)
    assert config_store.get_key("a" * 64) == record


def test_unknown_key_is_none(config_store):
    assert config_store.get_key("f" * 64) is None


def test_list_keys_of_a_site_or_of_all_sites(config_store):
    first = key_record("a" * 64, "s_site000001")
    second = key_record("b" * 64, "s_site000002", created_at=CREATED + timedelta(seconds=1))
    third = key_record("c" * 64, "s_site000001", created_at=CREATED + timedelta(seconds=2))
    for record in (third, second, first):
        config_store.put_key(record)
    assert config_store.list_keys("s_site000001") == [first, third]
    assert config_store.list_keys("s_site000002") == [second]
    assert config_store.list_keys("s_site000003") == []
    assert config_store.list_keys() == [first, second, third]


def test_revoke_key_sets_revoked_at(config_store):
    config_store.put_key(key_record("a" * 64, "s_site000001"))
    when = CREATED + timedelta(hours=2)
    config_store.revoke_key("a" * 64, when)
    assert config_store.get_key("a" * 64).revoked_at == when
    assert config_store.list_keys("s_site000001")[0].revoked_at == when


def test_revoking_an_unknown_key_raises_key_error(config_store):
    with pytest.raises(KeyError):
        config_store.revoke_key("f" * 64, CREATED)


# Goals


def test_goals_get_sequential_ids_and_list_by_id(config_store):
    site = config_store.create_site("example.com")
    definitions = [
        ("Thanks", "pageview", {"path": "/thanks*"}),
        ("Purchase", "custom", {"event": "Purchase", "prop": ["plan", "pro"]}),
        ("Partner", "click", {"domain": "partner.example.com"}),
        ("Contact", "form", {"form_id": "contact"}),
    ]
    created = [config_store.create_goal(site.site_id, name, kind, spec) for name, kind, spec in definitions]
    assert [goal.id for goal in created] == [1, 2, 3, 4]
    assert [(g.site_id, g.name, g.type, g.definition) for g in created] == [(site.site_id, *d) for d in definitions]
    assert config_store.list_goals(site.site_id) == created


def test_goal_name_is_unique_in_a_site_and_a_refusal_uses_no_id(config_store):
    site = config_store.create_site("example.com")
    config_store.create_goal(site.site_id, "Thanks", "pageview", {"path": "/thanks"})
    with pytest.raises(Conflict):
        config_store.create_goal(site.site_id, "Thanks", "custom", {"event": "Thanks"})
    assert config_store.create_goal(site.site_id, "Other", "pageview", {"path": "/other"}).id == 2
    assert [goal.name for goal in config_store.list_goals(site.site_id)] == ["Thanks", "Other"]


def test_goal_ids_are_never_reused_and_names_are_freed_by_delete(config_store):
    site = config_store.create_site("example.com")
    for name in ["a", "b", "c"]:
        config_store.create_goal(site.site_id, name, "pageview", {"path": f"/{name}"})
    assert config_store.delete_goal(site.site_id, 3) is True
    assert config_store.delete_goal(site.site_id, 3) is False
    again = config_store.create_goal(site.site_id, "c", "pageview", {"path": "/c"})
    assert again.id == 4
    assert [goal.id for goal in config_store.list_goals(site.site_id)] == [1, 2, 4]


def test_goals_are_per_site(config_store):
    one = config_store.create_site("one.example")
    two = config_store.create_site("two.example")
    config_store.create_goal(one.site_id, "Thanks", "pageview", {"path": "/thanks"})
    other = config_store.create_goal(two.site_id, "Thanks", "pageview", {"path": "/thanks"})
    assert other.id == 1
    assert config_store.delete_goal(two.site_id, 2) is False
    assert config_store.delete_goal(two.site_id, 1) is True
    assert [goal.site_id for goal in config_store.list_goals(one.site_id)] == [one.site_id]
    assert config_store.list_goals(two.site_id) == []


def test_goal_of_an_unknown_site_raises_key_error(config_store):
    with pytest.raises(KeyError):
        config_store.create_goal("s_0000000000", "Thanks", "pageview", {"path": "/thanks"})
    assert config_store.list_goals("s_0000000000") == []
    assert config_store.delete_goal("s_0000000000", 1) is False
