"""Firehose: Direct PUT JSON events → Parquet (via the Glue table) in ``events/site_id=…/dt=…/``.

Contract with ``clickport.adapters.firehose_sink``: each record is one JSON object with every column
of ``clickport.schema.EVENT_COLUMNS`` (``ts`` as ``YYYY-MM-DD HH:MM:SS.mmm`` UTC) plus ``site_id`` and
``dt`` (UTC ``YYYY-MM-DD`` of ``ts``), which the JQ query below turns into the partition path.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Fn, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_logs as logs
from constructs import Construct

from clickport.schema import PARTITION_COLUMNS
from infra.config import DeployConfig
from infra.storage import ERRORS_PREFIX, EVENTS_PREFIX, EventStore, acknowledge_prefix_access

# Firehose requires at least 64 MiB when it converts formats or partitions dynamically. The buffer is per
# partition (site and UTC day), so the interval (``config.firehose_buffer_seconds``, default 300 s) decides
# the object count of every site but the busiest: one object per active site, stream and interval, each
# billed for dynamic partitioning and an S3 PUT. Closed days are compacted (infra/compaction.py); the
# interval only bounds how late today's stats are (the realtime panel reads DynamoDB, not S3).
BUFFER_SIZE_MB = 64
PARTITION_KEYS = tuple(column.name for column in PARTITION_COLUMNS)
METADATA_EXTRACTION_QUERY = "{" + ", ".join(f"{key}: .{key}" for key in PARTITION_KEYS) + "}"
DELIVERY_PREFIX = EVENTS_PREFIX + "".join(f"{key}=!{{partitionKeyFromQuery:{key}}}/" for key in PARTITION_KEYS)
ERROR_OUTPUT_PREFIX = ERRORS_PREFIX + "!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/"
LOG_STREAM = "S3Delivery"


class EventIngest(Construct):
    """The delivery streams (``config.delivery_streams`` of them, alike: the event sink spreads events over
    them), their role (scoped to its prefixes, its Glue table and its log stream) and error log."""

    def __init__(self, scope: Construct, construct_id: str, *, store: EventStore, config: DeployConfig) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.log_group = logs.LogGroup(
            self, "DeliveryLogs", retention=config.retention, removal_policy=RemovalPolicy.DESTROY
        )
        logs.LogStream(self, "DeliveryLogStream", log_group=self.log_group, log_stream_name=LOG_STREAM)

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "firehose.amazonaws.com", conditions={"StringEquals": {"sts:ExternalId": Aws.ACCOUNT_ID}}
            ),
            description="Firehose: write Parquet events and errors, read the events table schema",
        )
        bucket = store.bucket
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[bucket.bucket_arn],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                resources=[bucket.arn_for_objects(EVENTS_PREFIX + "*"), bucket.arn_for_objects(ERRORS_PREFIX + "*")],
            )
        )
        acknowledge_prefix_access(
            self.role, bucket, (EVENTS_PREFIX, ERRORS_PREFIX), "Firehose names each Parquet and error object"
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
                resources=[store.catalog_arn, store.database_arn, store.table_arn],
            )
        )
        log_stream_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{self.log_group.log_group_name}:log-stream:{LOG_STREAM}",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.role.add_to_policy(iam.PolicyStatement(actions=["logs:PutLogEvents"], resources=[log_stream_arn]))

        self.streams = [
            self._delivery_stream("DeliveryStream" if index == 0 else f"DeliveryStream{index}", store, config)
            for index in range(config.delivery_streams)
        ]
        self.stream = self.streams[0]

    def _delivery_stream(
        self, construct_id: str, store: EventStore, config: DeployConfig
    ) -> firehose.CfnDeliveryStream:
        bucket = store.bucket
        stream = firehose.CfnDeliveryStream(
            self,
            construct_id,
            delivery_stream_type="DirectPut",
            delivery_stream_encryption_configuration_input=firehose.CfnDeliveryStream.DeliveryStreamEncryptionConfigurationInputProperty(
                key_type="AWS_OWNED_CMK"
            ),
            extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=bucket.bucket_arn,
                role_arn=self.role.role_arn,
                prefix=DELIVERY_PREFIX,
                error_output_prefix=ERROR_OUTPUT_PREFIX,
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                    interval_in_seconds=config.firehose_buffer_seconds, size_in_m_bs=BUFFER_SIZE_MB
                ),
                # Parquet pages are compressed by the serializer; the file itself must stay uncompressed.
                compression_format="UNCOMPRESSED",
                encryption_configuration=firehose.CfnDeliveryStream.EncryptionConfigurationProperty(
                    no_encryption_config="NoEncryption"  # the bucket's default encryption (SSE-S3) applies
                ),
                cloud_watch_logging_options=firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                    enabled=True, log_group_name=self.log_group.log_group_name, log_stream_name=LOG_STREAM
                ),
                dynamic_partitioning_configuration=firehose.CfnDeliveryStream.DynamicPartitioningConfigurationProperty(
                    enabled=True,
                    retry_options=firehose.CfnDeliveryStream.RetryOptionsProperty(duration_in_seconds=300),
                ),
                processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                    enabled=True,
                    processors=[
                        firehose.CfnDeliveryStream.ProcessorProperty(
                            type="MetadataExtraction",
                            parameters=[
                                firehose.CfnDeliveryStream.ProcessorParameterProperty(
                                    parameter_name="MetadataExtractionQuery", parameter_value=METADATA_EXTRACTION_QUERY
                                ),
                                firehose.CfnDeliveryStream.ProcessorParameterProperty(
                                    parameter_name="JsonParsingEngine", parameter_value="JQ-1.6"
                                ),
                            ],
                        )
                    ],
                ),
                data_format_conversion_configuration=firehose.CfnDeliveryStream.DataFormatConversionConfigurationProperty(
                    enabled=True,
                    input_format_configuration=firehose.CfnDeliveryStream.InputFormatConfigurationProperty(
                        # OpenX parses ts (yyyy-MM-dd HH:mm:ss.SSS) into a timestamp and ignores site_id/dt,
                        # which are not table columns.
                        deserializer=firehose.CfnDeliveryStream.DeserializerProperty(
                            open_x_json_ser_de=firehose.CfnDeliveryStream.OpenXJsonSerDeProperty()
                        )
                    ),
                    output_format_configuration=firehose.CfnDeliveryStream.OutputFormatConfigurationProperty(
                        serializer=firehose.CfnDeliveryStream.SerializerProperty(
                            parquet_ser_de=firehose.CfnDeliveryStream.ParquetSerDeProperty(compression="SNAPPY")
                        )
                    ),
                    schema_configuration=firehose.CfnDeliveryStream.SchemaConfigurationProperty(
                        catalog_id=Aws.ACCOUNT_ID,
                        database_name=store.database_name,
                        table_name=store.table_name,
                        region=Aws.REGION,
                        role_arn=self.role.role_arn,
                        version_id="LATEST",
                    ),
                ),
                s3_backup_mode="Disabled",
            ),
        )
        # The role's policy must exist before Firehose validates access to the bucket and the table.
        stream.node.add_dependency(self.role.node.find_child("DefaultPolicy"))
        stream.node.add_dependency(store.table)
        return stream

    @property
    def stream_name(self) -> str:
        """Every stream's name, comma-separated: ``Settings.firehose_stream`` of the event function."""
        return Fn.join(",", [stream.ref for stream in self.streams])

    @property
    def stream_names(self) -> list[str]:
        return [stream.ref for stream in self.streams]

    @property
    def stream_arns(self) -> list[str]:
        return [stream.attr_arn for stream in self.streams]
