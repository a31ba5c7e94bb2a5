"""API keys: shape, hashing, authentication, revocation within the cache TTL, permissions."""

from datetime import datetime, timezone

import pytest

from clickport.domain.keys import KeyAuthenticator, generate_key, hash_key, issue_key, require_permission
from clickport.errors import Forbidden, Unauthorized


def test_generated_keys_have_prefix_and_at_least_32_random_bytes():
    keys = {generate_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert key.startswith("ck_")
        assert len(key) - 3 >= 43  # 32 bytes in URL-safe base64
        assert all(c.isalnum() or c in "-_" for c in key[3:])


def test_store_holds_only_the_hash_and_display_prefix(runtime, site):
    key, record = issue_key(runtime.config, site.site_id, ["read"])
    assert record.key_hash == hash_key(key) != key
    assert record.prefix == key[:11]
    stored = runtime.config.get_key(hash_key(key))
    assert stored is not None and stored.site_id == site.site_id
    for path in runtime.settings.data_dir.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
            assert key[11:].encode() not in path.read_bytes(), path


def test_default_permissions_are_read_and_tracker(runtime, site):
    _, record = issue_key(runtime.config, site.site_id, [])
    assert record.permissions == {"read", "tracker"}


def test_unknown_permission_is_refused(runtime, site):
    with pytest.raises(ValueError, match="Unknown permission"):
        issue_key(runtime.config, site.site_id, ["admin"])


@pytest.mark.parametrize("presented", [None, "", "ck_short", "nope", "ck_" + "A" * 43])
def test_missing_malformed_and_unknown_keys_are_unauthorized(runtime, presented):
    with pytest.raises(Unauthorized) as raised:
        KeyAuthenticator(runtime.config).authenticate(presented)
    assert raised.value.message == "Invalid API key"


def test_revocation_is_honoured_once_the_cache_expires(runtime, site):
    now = [0.0]
    auth = KeyAuthenticator(runtime.config, ttl_seconds=30, clock=lambda: now[0])
    key, record = issue_key(runtime.config, site.site_id, ["read"])
    assert auth.authenticate(key).site_id == site.site_id
    runtime.config.revoke_key(record.key_hash, datetime.now(timezone.utc))
    now[0] = 29.0
    auth.authenticate(key)  # still cached: allowed within the TTL
    now[0] = 30.5
    with pytest.raises(Unauthorized):
        auth.authenticate(key)


def test_permission_check_names_the_missing_permission(runtime, site):
    _, record = issue_key(runtime.config, site.site_id, ["tracker"])
    with pytest.raises(Forbidden, match="'read'"):
        require_permission(record, "read")
    require_permission(record, "tracker")
