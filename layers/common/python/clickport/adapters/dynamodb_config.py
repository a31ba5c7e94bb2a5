"""AWS config store: sites, API key hashes and goals in the DynamoDB config table.

Item layout (``docs/stores.md``): sites under ``pk = "SITE"``, domain claims under ``"DOMAIN"``,
key hashes under ``"KEY"``, a site's goals and goal-name claims under ``"GOALS#<site>"``.
Uniqueness (domains, goal names) and goal ids are kept by transactions with conditional writes.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any, Sequence

from botocore.exceptions import ClientError

from clickport.adapters.config_common import key_order, new_site_id, normalize_domain, site_order
from clickport.adapters.dynamodb_base import (
    Item,
    cancellation_codes,
    default_client,
    error_code,
    get_int,
    get_s,
    is_conditional_failure,
    n,
    s,
    translate_errors,
)
from clickport.errors import Conflict, StoreUnavailable
from clickport.ports import ApiKeyRecord, Goal, Site

SITES = "SITE"
DOMAINS = "DOMAIN"
KEYS = "KEY"
TRANSACTION_ATTEMPTS = 5
_FAILED = "ConditionalCheckFailed"


def site_key(site_id: str) -> Item:
    return {"pk": s(SITES), "sk": s(site_id)}


def domain_key(domain: str) -> Item:
    return {"pk": s(DOMAINS), "sk": s(domain)}


def api_key_key(key_hash: str) -> Item:
    return {"pk": s(KEYS), "sk": s(key_hash)}


def goal_key(site_id: str, goal_id: int) -> Item:
    # NOTE: zero-padded so the sort key orders goals by id.
    return {"pk": s(f"GOALS#{site_id}"), "sk": s(f"ID#{goal_id:010d}")}


def goal_name_key(site_id: str, name: str) -> Item:
    return {"pk": s(f"GOALS#{site_id}"), "sk": s(f"NAME#{name}")}


class DynamoDbConfigStore:
    """``ConfigStore`` on the DynamoDB config table (``clickport.tables.CONFIG_TABLE``)."""

    def __init__(self, table_name: str, client=None) -> None:
        self._table = table_name
        self._client = client if client is not None else default_client()

    # Sites

    @translate_errors
    def create_site(self, domain: str) -> Site:
        domain = normalize_domain(domain)
        for _ in range(TRANSACTION_ATTEMPTS):
            site = Site(site_id=new_site_id(), domain=domain, created_at=datetime.now(timezone.utc))
            site_item = {
                **site_key(site.site_id),
                "site_id": s(site.site_id),
                "domain": s(domain),
                "created_at": s(site.created_at.isoformat()),
                "allow_hosts": {"L": []},
            }
            codes = self._transact(
                {"Put": self._absent({**domain_key(domain), "site_id": s(site.site_id)})},
                {"Put": self._absent(site_item)},
            )
            if not codes:
                return site
            if codes[0] == _FAILED:
                raise Conflict(f"Domain {domain!r} already belongs to a site")
            # Otherwise a site id collision or a concurrent transaction: draw another id.
        raise StoreUnavailable("the site could not be created")

    @translate_errors
    def get_site(self, site_id: str) -> Site | None:
        item = self._get(site_key(site_id))
        return _site(item) if item else None

    @translate_errors
    def get_site_by_domain(self, domain: str) -> Site | None:
        claim = self._get(domain_key(normalize_domain(domain)))
        return self.get_site(get_s(claim, "site_id")) if claim else None

    @translate_errors
    def list_sites(self) -> list[Site]:
        return sorted((_site(item) for item in self._partition(SITES)), key=site_order)

    @translate_errors
    def update_site(self, site_id: str, *, allow_hosts: Sequence[str]) -> Site:
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=site_key(site_id),
                UpdateExpression="SET #hosts = :hosts",
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#pk": "pk", "#hosts": "allow_hosts"},
                ExpressionAttributeValues={":hosts": {"L": [s(host) for host in allow_hosts]}},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                raise KeyError(f"unknown site {site_id}") from exc
            raise
        return _site(response["Attributes"])

    @translate_errors
    def note_event_date(self, site_id: str, day: date) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=site_key(site_id),
                UpdateExpression="SET #first = :day",
                ConditionExpression="attribute_exists(#pk) AND (attribute_not_exists(#first) OR #first > :day)",
                ExpressionAttributeNames={"#pk": "pk", "#first": "first_event_date"},
                ExpressionAttributeValues={":day": s(day.isoformat())},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise
            if not exc.response.get("Item") and self._get(site_key(site_id)) is None:
                raise KeyError(f"unknown site {site_id}") from exc

    # API keys (hashes only)

    @translate_errors
    def put_key(self, record: ApiKeyRecord) -> None:
        item = {
            **api_key_key(record.key_hash),
            "key_hash": s(record.key_hash),
            "prefix": s(record.prefix),
            "site_id": s(record.site_id),
            "permissions": {"L": [s(permission) for permission in sorted(record.permissions)]},
            "created_at": s(record.created_at.isoformat()),
        }
        if record.revoked_at is not None:
            item["revoked_at"] = s(record.revoked_at.isoformat())
        self._client.put_item(TableName=self._table, Item=item)

    @translate_errors
    def get_key(self, key_hash: str) -> ApiKeyRecord | None:
        item = self._get(api_key_key(key_hash))
        return _key(item) if item else None

    @translate_errors
    def list_keys(self, site_id: str | None = None) -> list[ApiKeyRecord]:
        records = (_key(item) for item in self._partition(KEYS))
        return sorted((r for r in records if site_id is None or r.site_id == site_id), key=key_order)

    @translate_errors
    def revoke_key(self, key_hash: str, when: datetime) -> None:
        """Raises ``KeyError`` for an unknown key."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=api_key_key(key_hash),
                UpdateExpression="SET #revoked = :when",
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#pk": "pk", "#revoked": "revoked_at"},
                ExpressionAttributeValues={":when": s(when.isoformat())},
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                raise KeyError("unknown API key") from exc
            raise

    # Goals

    @translate_errors
    def create_goal(self, site_id: str, name: str, type: str, definition: dict[str, Any]) -> Goal:
        """Raises ``KeyError`` for an unknown site; a refused goal does not use up an id."""
        for _ in range(TRANSACTION_ATTEMPTS):
            site = self._get(site_key(site_id))
            if site is None:
                raise KeyError(f"unknown site {site_id}")
            current = get_int(site, "goal_seq", 0)
            goal = Goal(site_id=site_id, id=current + 1, name=name, type=type, definition=dict(definition))
            # The site's goal counter moves by one only if nobody moved it since we read it.
            counter: dict[str, Any] = {
                "TableName": self._table,
                "Key": site_key(site_id),
                "UpdateExpression": "ADD #seq :one",
                "ExpressionAttributeNames": {"#pk": "pk", "#seq": "goal_seq"},
                "ExpressionAttributeValues": {":one": n(1)},
            }
            if current:
                counter["ConditionExpression"] = "attribute_exists(#pk) AND #seq = :current"
                counter["ExpressionAttributeValues"][":current"] = n(current)
            else:
                counter["ConditionExpression"] = "attribute_exists(#pk) AND attribute_not_exists(#seq)"
            goal_item = {
                **goal_key(site_id, goal.id),
                "site_id": s(site_id),
                "id": n(goal.id),
                "name": s(name),
                "type": s(type),
                "definition": s(json.dumps(goal.definition, sort_keys=True)),
            }
            codes = self._transact(
                {"Update": counter},
                {"Put": self._absent(goal_item)},
                {"Put": self._absent({**goal_name_key(site_id, name), "goal_id": n(goal.id)})},
            )
            if not codes:
                return goal
            if codes[2] == _FAILED:
                raise Conflict(f"A goal named {name!r} already exists in this site")
            # Otherwise a concurrent goal took this id: read the counter again.
        raise StoreUnavailable("the goal could not be created")

    @translate_errors
    def list_goals(self, site_id: str) -> list[Goal]:
        items = self._partition(f"GOALS#{site_id}", sort_key_prefix="ID#")
        return sorted((_goal(item) for item in items), key=lambda goal: goal.id)

    @translate_errors
    def delete_goal(self, site_id: str, goal_id: int) -> bool:
        item = self._get(goal_key(site_id, goal_id))
        if item is None:
            return False
        exists = {"ConditionExpression": "attribute_exists(#pk)", "ExpressionAttributeNames": {"#pk": "pk"}}
        codes = self._transact(
            {"Delete": {"TableName": self._table, "Key": goal_key(site_id, goal_id), **exists}},
            {"Delete": {"TableName": self._table, "Key": goal_name_key(site_id, get_s(item, "name"))}},
        )
        if codes and codes[0] != _FAILED:
            raise StoreUnavailable("the goal could not be deleted")
        return not codes

    # Plumbing

    def _get(self, key: Item) -> Item | None:
        return self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")

    def _partition(self, pk: str, sort_key_prefix: str | None = None):
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": "pk"},
            "ExpressionAttributeValues": {":pk": s(pk)},
            "ConsistentRead": True,
        }
        if sort_key_prefix:
            kwargs["KeyConditionExpression"] += " AND begins_with(#sk, :prefix)"
            kwargs["ExpressionAttributeNames"]["#sk"] = "sk"
            kwargs["ExpressionAttributeValues"][":prefix"] = s(sort_key_prefix)
        while True:
            page = self._client.query(**kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _absent(self, item: Item) -> dict[str, Any]:
        """A put that succeeds only if no item has this key yet."""
        return {
            "TableName": self._table,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": "pk"},
        }

    def _transact(self, *operations: dict[str, Any]) -> list[str]:
        """Run a transaction; [] when it committed, else the per-operation cancellation codes."""
        try:
            self._client.transact_write_items(TransactItems=list(operations))
            return []
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            codes = cancellation_codes(exc) or ["None"] * len(operations)
            if any(code not in (_FAILED, "TransactionConflict", "None") for code in codes):
                raise StoreUnavailable(f"DynamoDB cancelled the transaction: {', '.join(codes)}") from exc
            return codes


def _site(item: Item) -> Site:
    first = get_s(item, "first_event_date")
    return Site(
        site_id=get_s(item, "site_id"),
        domain=get_s(item, "domain"),
        created_at=datetime.fromisoformat(get_s(item, "created_at")),
        allow_hosts=tuple(host["S"] for host in item.get("allow_hosts", {"L": []})["L"]),
        first_event_date=date.fromisoformat(first) if first else None,
    )


def _key(item: Item) -> ApiKeyRecord:
    revoked = get_s(item, "revoked_at")
    return ApiKeyRecord(
        key_hash=get_s(item, "key_hash"),
        prefix=get_s(item, "prefix"),
        site_id=get_s(item, "site_id"),
        permissions=frozenset(value["S"] for value in item["permissions"]["L"]),
        created_at=datetime.fromisoformat(get_s(item, "created_at")),
        revoked_at=datetime.fromisoformat(revoked) if revoked else None,
    )


def _goal(item: Item) -> Goal:
    return Goal(
        site_id=get_s(item, "site_id"),
        id=get_int(item, "id"),
        name=get_s(item, "name"),
        type=get_s(item, "type"),
        definition=json.loads(get_s(item, "definition")),
    )
