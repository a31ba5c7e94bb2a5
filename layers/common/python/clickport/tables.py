"""DynamoDB table key schemas, declared once for CDK, tests and adapters."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    name: str
    type: str  # "S" | "N"


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: Key
    sort_key: Key | None
    # "INCLUDE" with the few attributes readers need keeps index writes at one unit whatever the item size.
    projection: str = "ALL"
    non_key_attributes: tuple[str, ...] = ()

    def projection_spec(self) -> dict:
        spec: dict = {"ProjectionType": self.projection}
        if self.projection == "INCLUDE":
            spec["NonKeyAttributes"] = list(self.non_key_attributes)
        return spec


@dataclass(frozen=True)
class TableSchema:
    logical_name: str
    partition_key: Key
    sort_key: Key | None
    ttl_attribute: str | None
    indexes: tuple[Index, ...] = ()
    point_in_time_recovery: bool = False

    def key_schema(self) -> list[dict[str, str]]:
        keys = [{"AttributeName": self.partition_key.name, "KeyType": "HASH"}]
        if self.sort_key:
            keys.append({"AttributeName": self.sort_key.name, "KeyType": "RANGE"})
        return keys

    def attribute_definitions(self) -> list[dict[str, str]]:
        seen: dict[str, str] = {}
        for key in (self.partition_key, self.sort_key):
            if key:
                seen[key.name] = key.type
        for index in self.indexes:
            for key in (index.partition_key, index.sort_key):
                if key:
                    seen[key.name] = key.type
        return [{"AttributeName": n, "AttributeType": t} for n, t in seen.items()]

    def global_secondary_indexes(self) -> list[dict]:
        result = []
        for index in self.indexes:
            keys = [{"AttributeName": index.partition_key.name, "KeyType": "HASH"}]
            if index.sort_key:
                keys.append({"AttributeName": index.sort_key.name, "KeyType": "RANGE"})
            result.append({"IndexName": index.name, "KeySchema": keys, "Projection": index.projection_spec()})
        return result

    def create_table_kwargs(self, table_name: str) -> dict:
        """Arguments for ``create_table`` (tests and moto); CDK builds the same from this schema."""
        kwargs: dict = {
            "TableName": table_name,
            "KeySchema": self.key_schema(),
            "AttributeDefinitions": self.attribute_definitions(),
            "BillingMode": "PAY_PER_REQUEST",
        }
        if self.indexes:
            kwargs["GlobalSecondaryIndexes"] = self.global_secondary_indexes()
        return kwargs


# Sites, key hashes, goals. Backed up (point-in-time recovery).
CONFIG_TABLE = TableSchema(
    logical_name="ConfigTable",
    partition_key=Key("pk", "S"),
    sort_key=Key("sk", "S"),
    ttl_attribute=None,
    point_in_time_recovery=True,
)

# Sessions, rate-limit counters, daily salts: everything expires; never backed up.
# The realtime index is sharded per site (``rt_pk`` = "<site>#<shard>") so a busy site spreads its session
# writes over REALTIME_SHARDS partitions. Its sort key ``rt_sk`` is the start (epoch ms) of the session's
# current period of REALTIME_BUCKET_MS, periods counted from the session's start, and it projects keys only:
# an event rewrites ``rt_sk`` with the value it already has unless the session enters a new period, so the
# index is written when a session starts and once per period it lasts, never on an event's last-activity
# write. Readers filter the candidates on the table's exact ``last_ms`` (``docs/stores.md``). Six minutes:
# against buckets of 10 minutes on the clock, fewer index writes and fewer candidates per realtime call for
# short and for long visits (``bench/realtime_periods.py``).
REALTIME_BUCKET_MS = 360_000
REALTIME_INDEX = Index(
    name="realtime",
    partition_key=Key("rt_pk", "S"),
    sort_key=Key("rt_sk", "N"),
    projection="KEYS_ONLY",
)
LIVE_TABLE = TableSchema(
    logical_name="LiveTable",
    partition_key=Key("pk", "S"),
    sort_key=Key("sk", "S"),
    ttl_attribute="expires_at",
    indexes=(REALTIME_INDEX,),
)
REALTIME_SHARDS = 16
