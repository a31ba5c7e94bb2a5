"""The two DynamoDB tables, built from the key schemas the adapters use (``clickport.tables``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from clickport.tables import CONFIG_TABLE, LIVE_TABLE, Key, TableSchema

# DynamoDB, "Pre-warming a table for on-demand capacity mode": "New on-demand tables will be able to sustain
# up to 4,000 writes per second and 12,000 reads per second." Pre-warming raises writes; reads stay as given.
DEFAULT_WARM_READS_PER_SECOND = 12_000

# The realtime index's provisioned units as a share of the table's. Measured (docs/benchmarks.md): 0.34 index
# write units per event against 2.11 on the table, 0.16; all-new traffic writes 1 index unit per 2 table units
# (rate counter + new session), so the index gets half the table's write units: never the one that throttles
# the table's writes ("If a global secondary index has insufficient write capacity, the table write is
# throttled"). Its reads are realtime queries only (keys only, a few units each).
INDEX_WRITE_SHARE = 0.5
INDEX_READ_SHARE = 0.5


@dataclass(frozen=True)
class LiveCapacity:
    """The live table's capacity mode; provisioned units scale with Application Auto Scaling (target tracking
    on consumed capacity) between the minimum and maximum."""

    mode: str = "on-demand"  # | "provisioned"
    read_units: int = 5
    write_units: int = 25
    max_read_units: int = 2_000
    max_write_units: int = 12_000
    target_utilization: int = 70

    @property
    def provisioned(self) -> bool:
        return self.mode == "provisioned"

    @classmethod
    def from_config(cls, config) -> "LiveCapacity":
        return cls(config.live_capacity, config.live_read_units, config.live_write_units,
                   config.live_max_read_units, config.live_max_write_units, config.live_target_utilization)

    def index_units(self, units: int, share: float) -> int:
        return max(1, math.ceil(units * share))


_ATTRIBUTE_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}


def _attribute(key: Key) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


def table_from_schema(
    scope: Construct,
    schema: TableSchema,
    removal_policy: RemovalPolicy,
    warm_writes_per_second: int = 0,
    capacity: LiveCapacity | None = None,
) -> dynamodb.Table:
    """An encrypted table with exactly the schema's keys, TTL, indexes and backup setting: on-demand and
    pre-warmed for ``warm_writes_per_second`` writes (table and indexes) when that is not 0, or provisioned
    with autoscaling (``capacity``; pre-warming does not apply)."""
    provisioned = capacity is not None and capacity.provisioned
    if provisioned:
        warm_writes_per_second = 0
    warm = (
        dynamodb.WarmThroughput(
            write_units_per_second=warm_writes_per_second, read_units_per_second=DEFAULT_WARM_READS_PER_SECOND
        )
        if warm_writes_per_second
        else None
    )
    table = dynamodb.Table(
        scope,
        schema.logical_name,
        partition_key=_attribute(schema.partition_key),
        sort_key=_attribute(schema.sort_key) if schema.sort_key else None,
        billing_mode=dynamodb.BillingMode.PROVISIONED if provisioned else dynamodb.BillingMode.PAY_PER_REQUEST,
        read_capacity=capacity.read_units if provisioned else None,
        write_capacity=capacity.write_units if provisioned else None,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        time_to_live_attribute=schema.ttl_attribute,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=schema.point_in_time_recovery
        ),
        removal_policy=removal_policy,
        warm_throughput=warm,
    )
    for index in schema.indexes:
        table.add_global_secondary_index(
            index_name=index.name,
            partition_key=_attribute(index.partition_key),
            sort_key=_attribute(index.sort_key) if index.sort_key else None,
            projection_type=dynamodb.ProjectionType(index.projection),
            non_key_attributes=list(index.non_key_attributes) or None,
            warm_throughput=warm,
            read_capacity=capacity.index_units(capacity.read_units, INDEX_READ_SHARE) if provisioned else None,
            write_capacity=capacity.index_units(capacity.write_units, INDEX_WRITE_SHARE) if provisioned else None,
        )
    if provisioned:
        _autoscale(table, schema, capacity)
    return table


def _autoscale(table: dynamodb.Table, schema: TableSchema, capacity: LiveCapacity) -> None:
    """Target tracking on consumed capacity for the table and each index, reads and writes."""
    target = capacity.target_utilization
    table.auto_scale_read_capacity(
        min_capacity=capacity.read_units, max_capacity=capacity.max_read_units
    ).scale_on_utilization(target_utilization_percent=target)
    table.auto_scale_write_capacity(
        min_capacity=capacity.write_units, max_capacity=capacity.max_write_units
    ).scale_on_utilization(target_utilization_percent=target)
    for index in schema.indexes:
        table.auto_scale_global_secondary_index_read_capacity(
            index.name,
            min_capacity=capacity.index_units(capacity.read_units, INDEX_READ_SHARE),
            max_capacity=capacity.index_units(capacity.max_read_units, INDEX_READ_SHARE),
        ).scale_on_utilization(target_utilization_percent=target)
        table.auto_scale_global_secondary_index_write_capacity(
            index.name,
            min_capacity=capacity.index_units(capacity.write_units, INDEX_WRITE_SHARE),
            max_capacity=capacity.index_units(capacity.max_write_units, INDEX_WRITE_SHARE),
        ).scale_on_utilization(target_utilization_percent=target)


class Tables(Construct):
    """Config (sites, key hashes, goals; backed up, kept on stack deletion) and live (expiring, never backed up)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        live_warm_writes_per_second: int = 0,
        live_capacity: LiveCapacity | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = table_from_schema(self, CONFIG_TABLE, RemovalPolicy.RETAIN)
        self.live = table_from_schema(
            self,
            LIVE_TABLE,
            RemovalPolicy.DESTROY,
            warm_writes_per_second=live_warm_writes_per_second,
            capacity=live_capacity,
        )
        Validations.of(self.live).acknowledge(
            Acknowledgment(
                id="AwsSolutions-DDB3",
                reason="The live table holds daily visitor-id salts that must really disappear after two days "
                "(privacy model, spec 5.4); point-in-time recovery would keep them restorable for 35 days. "
                "Everything in it expires within a day anyway (sessions, rate-limit counters).",
            )
        )
