"""The two DynamoDB tables, built from the key schemas the adapters use (``clickport.tables``)."""

from __future__ import annotations

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from clickport.tables import CONFIG_TABLE, LIVE_TABLE, Key, TableSchema

# DynamoDB, "Pre-warming a table for on-demand capacity mode": "New on-demand tables will be able to sustain
# up to 4,000 writes per second and 12,000 reads per second." Pre-warming raises writes; reads stay as given.
DEFAULT_WARM_READS_PER_SECOND = 12_000

_ATTRIBUTE_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}


def _attribute(key: Key) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


def table_from_schema(
    scope: Construct, schema: TableSchema, removal_policy: RemovalPolicy, warm_writes_per_second: int = 0
) -> dynamodb.Table:
    """An on-demand, encrypted table with exactly the schema's keys, TTL, indexes and backup setting;
    pre-warmed for ``warm_writes_per_second`` writes (table and indexes) when that is not 0."""
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
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
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
        )
    return table


class Tables(Construct):
    """Config (sites, key hashes, goals; backed up, kept on stack deletion) and live (expiring, never backed up)."""

    def __init__(self, scope: Construct, construct_id: str, *, live_warm_writes_per_second: int = 0) -> None:
        super().__init__(scope, construct_id)
        self.config = table_from_schema(self, CONFIG_TABLE, RemovalPolicy.RETAIN)
        self.live = table_from_schema(
            self, LIVE_TABLE, RemovalPolicy.DESTROY, warm_writes_per_second=live_warm_writes_per_second
        )
        Validations.of(self.live).acknowledge(
            Acknowledgment(
                id="AwsSolutions-DDB3",
                reason="The live table holds daily visitor-id salts that must really disappear after two days "
                "(privacy model, spec 5.4); point-in-time recovery would keep them restorable for 35 days. "
                "Everything in it expires within a day anyway (sessions, rate-limit counters).",
            )
        )
