"""Where events live and how Athena reads them: the S3 bucket, the Glue table and the Athena workgroup."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aws, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct

from clickport.adapters.compaction import SLOT_COLUMNS
from clickport.adapters.s3_compaction import COMPACTED_PREFIX, RAW_PREFIX, SLOTS_PREFIX
from clickport.adapters.s3_compaction import STATE_PREFIX as COMPACTION_STATE_PREFIX  # noqa: F401 - for infra
from clickport.schema import PARTITION_COLUMNS, glue_columns
from infra.config import DeployConfig

EVENTS_PREFIX = RAW_PREFIX  # Firehose's objects (the compaction job reads them, never changes them)
# AWS compaction (clickport.adapters.s3_compaction) adds COMPACTED_PREFIX (closed days in the day layout) and
# COMPACTION_STATE_PREFIX (per-day manifests and each site's watermark) and SLOTS_PREFIX (each compacted day's
# session slots).
ERRORS_PREFIX = "errors/"
ATHENA_RESULTS_PREFIX = "athena-results/"
EVENTS_TABLE = "events"
COMPACTED_TABLE = "events_compacted"  # Settings.athena_compacted_table of the query functions
SLOTS_TABLE = "events_slots"  # Settings.athena_slots_table of the query functions
# Partition projection: site_id is injected (every query names its site), dt is a UTC date.
DT_FORMAT = "yyyy-MM-dd"
DT_RANGE = "2000-01-01,NOW+1DAYS"

_PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
_PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
_PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


def private_bucket(scope: Construct, construct_id: str, **props) -> s3.Bucket:
    """Encrypted, TLS-only, never public, no ACLs."""
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        **props,
    )


def acknowledge_no_server_access_logs(bucket: s3.Bucket, readers: str) -> None:
    Validations.of(bucket).acknowledge(
        Acknowledgment(
            id="AwsSolutions-S1",
            reason=f"Only {readers} access this bucket (no person, no browser), so S3 server access "
            "logs would record AWS service addresses only; they would cost a second bucket and add nothing "
            "that CloudTrail does not already show.",
        )
    )


def acknowledge_prefix_access(grantee: Construct, bucket: s3.Bucket, prefixes: tuple[str, ...], why: str) -> None:
    """Acknowledge exactly the ``<bucket>/<prefix>*`` object ARNs of ``grantee``'s policy, nothing wider."""
    stack = Stack.of(bucket)
    bucket_id = stack.resolve(stack.get_logical_id(bucket.node.default_child))
    for prefix in prefixes:
        Validations.of(grantee).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]",
                reason=f"Object keys under {prefix} are created at run time ({why}); the wildcard is "
                "confined to that one prefix of this stack's bucket.",
            )
        )


def projection_parameters(location_template: str) -> dict[str, str]:
    """Glue table parameters: Parquet, partition projection for ``site_id`` (injected) and ``dt`` (date)."""
    site_id, dt = (column.name for column in PARTITION_COLUMNS)
    return {
        "classification": "parquet",
        "projection.enabled": "true",
        f"projection.{site_id}.type": "injected",
        f"projection.{dt}.type": "date",
        f"projection.{dt}.format": DT_FORMAT,
        f"projection.{dt}.range": DT_RANGE,
        f"projection.{dt}.interval": "1",
        f"projection.{dt}.interval.unit": "DAYS",
        "storage.location.template": location_template,
    }


class EventStore(Construct):
    """Events bucket (``events/site_id=…/dt=…/``, Firehose errors, Athena results), Glue catalog, workgroup."""

    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig) -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(
            self,
            "EventsBucket",
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
                s3.LifecycleRule(
                    id="expire-firehose-errors",
                    prefix=ERRORS_PREFIX,
                    expiration=Duration.days(config.error_output_expiration_days),
                ),
                s3.LifecycleRule(
                    id="expire-athena-results",
                    prefix=ATHENA_RESULTS_PREFIX,
                    expiration=Duration.days(config.athena_results_expiration_days),
                ),
            ],
        )
        acknowledge_no_server_access_logs(self.bucket, "Firehose (writes) and Athena on behalf of the query functions")

        self.database_name = f"clickport_{config.stage}"
        self.table_name = EVENTS_TABLE
        self.workgroup_name = f"clickport-{config.stage}"
        self.events_location = f"s3://{self.bucket.bucket_name}/{EVENTS_PREFIX}"

        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name, description="Clickport analytics events"
            ),
        )
        self.table = self._events_table(
            "EventsTable", self.table_name, self.events_location,
            "One row per stored event (clickport.schema.EVENT_COLUMNS)",
        )
        # The same columns and partitions over compacted/: days up to a site's watermark are read here.
        self.compacted_table_name = COMPACTED_TABLE
        self.compacted_location = f"s3://{self.bucket.bucket_name}/{COMPACTED_PREFIX}"
        self.compacted_table = self._events_table(
            "CompactedEventsTable", self.compacted_table_name, self.compacted_location,
            "Closed UTC days of events in the day layout, written by the compaction job "
            "(clickport.adapters.s3_compaction); read for days up to each site's watermark",
        )
        # The compacted days' session slots (clickport.adapters.compaction.session_slots), one row per session
        # and UTC 15-minute slot: read instead of events for the days up to a watermark that says they exist.
        self.slots_table_name = SLOTS_TABLE
        self.slots_location = f"s3://{self.bucket.bucket_name}/{SLOTS_PREFIX}"
        self.slots_table = self._events_table(
            "SessionSlotsTable", self.slots_table_name, self.slots_location,
            "Session slots of the compacted days, written by the compaction job with them "
            "(clickport.adapters.compaction.session_slots); read for days up to each site's watermark",
            columns=[glue.CfnTable.ColumnProperty(name=name, type=kind) for name, kind in SLOT_COLUMNS],
        )

        self.workgroup = athena.CfnWorkGroup(
            self,
            "Workgroup",
            name=self.workgroup_name,
            description="Clickport queries: engine v3, enforced result location, per-query scan cutoff",
            state="ENABLED",
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                bytes_scanned_cutoff_per_query=config.athena_bytes_scanned_cutoff,
                publish_cloud_watch_metrics_enabled=True,
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.bucket.bucket_name}/{ATHENA_RESULTS_PREFIX}",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )

    def _events_table(
        self, construct_id: str, name: str, location: str, description: str,
        columns: list[glue.CfnTable.ColumnProperty] | None = None,
    ) -> glue.CfnTable:
        """A Parquet table at ``location`` of the event schema (or ``columns``), partitioned ``site_id=…/dt=…/``
        by projection."""
        table = glue.CfnTable(
            self,
            construct_id,
            catalog_id=Aws.ACCOUNT_ID,
            database_name=self.database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=name,
                description=description,
                table_type="EXTERNAL_TABLE",
                parameters=projection_parameters(
                    location + "".join(f"{c.name}=${{{c.name}}}/" for c in PARTITION_COLUMNS)
                ),
                partition_keys=[
                    glue.CfnTable.ColumnProperty(name=c.name, type=c.type, comment=c.doc) for c in PARTITION_COLUMNS
                ],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    columns=columns or [
                        glue.CfnTable.ColumnProperty(name=c["name"], type=c["type"], comment=c["comment"] or None)
                        for c in glue_columns()
                    ],
                    location=location,
                    input_format=_PARQUET_INPUT,
                    output_format=_PARQUET_OUTPUT,
                    serde_info=glue.CfnTable.SerdeInfoProperty(serialization_library=_PARQUET_SERDE),
                    compressed=False,
                    stored_as_sub_directories=False,
                ),
            ),
        )
        table.node.add_dependency(self.database)
        return table

    # ARNs for least-privilege policies.
    @property
    def catalog_arn(self) -> str:
        return Stack.of(self).format_arn(service="glue", resource="catalog")

    @property
    def database_arn(self) -> str:
        return Stack.of(self).format_arn(service="glue", resource="database", resource_name=self.database_name)

    @property
    def table_arn(self) -> str:
        return Stack.of(self).format_arn(
            service="glue", resource="table", resource_name=f"{self.database_name}/{self.table_name}"
        )

    @property
    def compacted_table_arn(self) -> str:
        return Stack.of(self).format_arn(
            service="glue", resource="table", resource_name=f"{self.database_name}/{self.compacted_table_name}"
        )

    @property
    def slots_table_arn(self) -> str:
        return Stack.of(self).format_arn(
            service="glue", resource="table", resource_name=f"{self.database_name}/{self.slots_table_name}"
        )

    @property
    def workgroup_arn(self) -> str:
        return Stack.of(self).format_arn(service="athena", resource="workgroup", resource_name=self.workgroup_name)
