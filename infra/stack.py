"""The one Clickport stack: composes the capability constructs and publishes the outputs the CLI reads."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aws, CfnOutput, Stack, Tags, Validations
from constructs import Construct

from clickport.cli.aws import OUTPUTS as CLI_OUTPUTS
from infra.api import HttpApi
from infra.compaction import Compaction
from infra.config import DeployConfig
from infra.dashboard import Dashboard
from infra.edge import Edge, origin_secret
from infra.functions import Functions
from infra.ingest import EventIngest
from infra.monitoring import Monitoring
from infra.storage import EventStore
from infra.tables import LiveCapacity, Tables


class ClickportStack(Stack):
    """Tables, event store, ingest, functions, HTTP API, CloudFront and alarms of one deployment."""

    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig, **kwargs) -> None:
        super().__init__(
            scope, construct_id, description=f"Clickport analytics ({config.stage})", **kwargs
        )
        self.config = config
        Tags.of(self).add("project", "clickport")
        Tags.of(self).add("stage", config.stage)

        self.tables = Tables(
            self,
            "Tables",
            live_warm_writes_per_second=config.live_warm_writes_per_second,
            live_capacity=LiveCapacity.from_config(config),
        )
        self.store = EventStore(self, "Events", config=config)
        self.ingest = EventIngest(self, "Ingest", store=self.store, config=config)

        self.origin_secret = origin_secret(self, config)
        Validations.of(self.origin_secret).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason="CloudFront and the event function receive this value at deploy time, so an automatic "
                "rotation would silently split them; it is rotated by a deploy with a new "
                "clickport:originSecretGeneration, which replaces the secret and both users in one change.",
            )
        )
        secret_value = self.origin_secret.secret_value.unsafe_unwrap()

        self.functions = Functions(
            self,
            "Functions",
            config=config,
            tables=self.tables,
            store=self.store,
            ingest=self.ingest,
            origin_secret=secret_value,
        )
        self.http = HttpApi(self, "Http", functions=self.functions.functions, config=config)
        self.edge = Edge(self, "Edge", api=self.http, secret_value=secret_value, config=config)
        self.dashboard = Dashboard(self, "Dashboard", edge=self.edge)
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            functions=self.functions.functions,
            tables={"config": self.tables.config, "live": self.tables.live},
            ingest=self.ingest,
            config=config,
            api=self.http.api,
        )
        self.compaction = Compaction(self, "Compaction", config=config, store=self.store,
                                     common_layer=self.functions.layer, topic=self.monitoring.topic)
        self._outputs()

    def _outputs(self) -> None:
        """The two URLs, what an operator looks for, and every output ``clickport --aws`` reads (its names)."""
        settings = {
            "region": Aws.REGION,
            "config_table": self.tables.config.table_name,
            "live_table": self.tables.live.table_name,
            "firehose_stream": self.ingest.stream_name,
            "athena_workgroup": self.store.workgroup_name,
            "athena_database": self.store.database_name,
            "athena_table": self.store.table_name,
        }
        for name, field in CLI_OUTPUTS.items():
            CfnOutput(self, name, value=settings[field], description=f"Settings.{field} of the operator CLI")
        values = {
            "ApiUrl": (self.http.url, "API Gateway endpoint (no CloudFront: no viewer places)"),
            "CloudFrontUrl": (self.edge.url, "Public base URL: the API under /api/, /cp.js and the dashboard at /"),
            "EventsBucketName": (self.store.bucket.bucket_name, "Parquet events, Firehose errors, Athena results"),
            "TrackerBucketName": (self.edge.tracker_bucket.bucket_name, "Origin of /cp.js and /dashboard/"),
            "AlarmTopicArn": (self.monitoring.topic.topic_arn, "SNS topic of every alarm (subscribe to it)"),
        }
        for key, (value, description) in values.items():
            CfnOutput(self, key, value=value, description=description)
