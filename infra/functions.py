"""The four Lambda functions: arm64 Python 3.13 on the common layer, each with its own least-privilege role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from clickport.adapters.dynamodb_config import SITES
from clickport.ingest.drops import METRICS_NAMESPACE
from clickport.routes import DEFAULT_FUNCTION, ROUTES
from clickport.tables import LIVE_TABLE
from constructs import Construct

from infra.bundling import (
    LAMBDA_ARCHITECTURE,
    LAMBDA_PYTHON_VERSION,
    LAMBDA_RUNTIME,
    LayerBundler,
    function_code,
    layer_code,
    runtime_requirements,
)
from infra.config import DeployConfig
from infra.ingest import EventIngest
from infra.storage import (
    ATHENA_RESULTS_PREFIX,
    COMPACTED_PREFIX,
    COMPACTION_STATE_PREFIX,
    EVENTS_PREFIX,
    SLOTS_PREFIX,
    EventStore,
    acknowledge_prefix_access,
)
from infra.tables import Tables

HANDLER = "handler.lambda_handler"

# Read-only item access; no Scan: every read names its key or key prefix.
DYNAMODB_READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")
DYNAMODB_WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
ATHENA_QUERY = (
    "athena:StartQueryExecution",
    "athena:GetQueryExecution",
    "athena:GetQueryResults",
    "athena:StopQueryExecution",
)
GLUE_READ = ("glue:GetDatabase", "glue:GetTable", "glue:GetPartitions")


@dataclass(frozen=True)
class FunctionSpec:
    """One endpoint family: what it is, its size, and the capabilities its role and environment get."""

    description: str
    memory_mb: int
    timeout_seconds: int
    needs: tuple[str, ...]


# The HTTP API allows an integration 30 s; the Athena functions stop a query before that (settings).
FUNCTION_SPECS: dict[str, FunctionSpec] = {
    "event": FunctionSpec(
        "Events API: /api/event, /api/track", 512, 10, ("config", "site-first-event", "live-write", "firehose", "edge")
    ),
    "query": FunctionSpec("Stats API: /api/query, breakdowns, unknown routes", 1024, 29, ("config", "athena")),
    "realtime": FunctionSpec("Realtime API: /api/realtime", 256, 10, ("config", "live-read")),
    "goals": FunctionSpec("Goals API: /api/goals", 1024, 29, ("config", "athena")),
}


def routed_function_names() -> set[str]:
    """Every function some route (or the ``$default`` route) reaches."""
    return {route.function for route in ROUTES} | {DEFAULT_FUNCTION}


@dataclass
class _Grant:
    """What one capability adds to a function: policy statements, environment variables, and the
    object-key prefixes whose ``prefix*`` resources cdk-nag should accept (with the reason)."""

    statements: list[iam.PolicyStatement]
    environment: dict[str, str]
    object_prefixes: tuple[str, ...] = ()
    prefixes_reason: str = ""


class Functions(Construct):
    """Layer + one function per endpoint family; ``self.functions[name]`` for routing and alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        tables: Tables,
        store: EventStore,
        ingest: EventIngest,
        origin_secret: str,
    ) -> None:
        super().__init__(scope, construct_id)
        mismatch = routed_function_names() ^ set(FUNCTION_SPECS)
        if mismatch:
            raise ValueError(f"routes and function specs disagree on: {sorted(mismatch)}")
        self._config = config
        self._tables = tables
        self._store = store
        self._ingest = ingest
        self._origin_secret = origin_secret

        bundler = LayerBundler(
            runtime_requirements(), install_dependencies=config.bundling == "pip", bytecode=config.bytecode
        )
        self.layer = lambda_.LayerVersion(
            self,
            "CommonLayer",
            code=layer_code(bundler),
            compatible_runtimes=[LAMBDA_RUNTIME],
            compatible_architectures=[LAMBDA_ARCHITECTURE],
            description=f"clickport package and its runtime dependencies (arm64, Python {LAMBDA_PYTHON_VERSION})",
        )
        self.functions: dict[str, lambda_.Function] = {
            name: self._function(name, spec) for name, spec in FUNCTION_SPECS.items()
        }

    def _function(self, name: str, spec: FunctionSpec) -> lambda_.Function:
        construct_id = name.capitalize()
        log_group = logs.LogGroup(
            self, f"{construct_id}Logs", retention=self._config.retention, removal_policy=RemovalPolicy.DESTROY
        )
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"clickport {name} function: its log group and {', '.join(spec.needs)}",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        environment = {
            "CLICKPORT_BACKEND": "aws",
            "POWERTOOLS_SERVICE_NAME": f"clickport-{name}",
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        for need in spec.needs:
            grant = _GRANTS[need](self)
            for statement in grant.statements:
                role.add_to_policy(statement)
            environment.update(grant.environment)
            if grant.object_prefixes:
                acknowledge_prefix_access(role, self._store.bucket, grant.object_prefixes, grant.prefixes_reason)
        function = lambda_.Function(
            self,
            construct_id,
            description=spec.description,
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            handler=HANDLER,
            code=function_code(name, bytecode=self._config.bytecode),
            layers=[self.layer],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            role=role,
            log_group=log_group,
            environment=environment,
        )
        Validations.of(function).acknowledge(
            Acknowledgment(
                id="AwsSolutions-L1",
                reason=f"Python {LAMBDA_PYTHON_VERSION} on purpose: the common layer is built "
                "from wheels for exactly this version (infra/bundling.py); a newer runtime means rebuilding "
                "and re-checking every pinned wheel for it, in one change with the bundling target.",
            )
        )
        return function

    def _config_read(self) -> _Grant:
        table = self._tables.config
        return _Grant(
            [iam.PolicyStatement(actions=list(DYNAMODB_READ), resources=[table.table_arn])],
            {"CLICKPORT_CONFIG_TABLE": table.table_name},
        )

    def _site_first_event(self) -> _Grant:
        """``note_event_date``: the one config write of the event function, confined to the site items."""
        return _Grant(
            [
                iam.PolicyStatement(
                    actions=["dynamodb:UpdateItem"],
                    resources=[self._tables.config.table_arn],
                    conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [SITES]}},
                )
            ],
            {},
        )

    def _live_read(self) -> _Grant:
        table = self._tables.live
        index_arns = [f"{table.table_arn}/index/{index.name}" for index in LIVE_TABLE.indexes]
        return _Grant(
            [iam.PolicyStatement(actions=list(DYNAMODB_READ), resources=[table.table_arn, *index_arns])],
            {"CLICKPORT_LIVE_TABLE": table.table_name},
        )

    def _live_write(self) -> _Grant:
        table = self._tables.live
        return _Grant(
            [iam.PolicyStatement(actions=[*DYNAMODB_READ, *DYNAMODB_WRITE], resources=[table.table_arn])],
            {"CLICKPORT_LIVE_TABLE": table.table_name},
        )

    def _firehose_write(self) -> _Grant:
        return _Grant(
            [
                iam.PolicyStatement(
                    actions=["firehose:PutRecord", "firehose:PutRecordBatch"], resources=self._ingest.stream_arns
                )
            ],
            {"CLICKPORT_FIREHOSE_STREAM": self._ingest.stream_name},
        )

    def _athena_query(self) -> _Grant:
        """Athena over the tables (events, and compacted days and their session slots up to each site's watermark:
        infra/compaction.py),
        and the GET of the watermark under ``compaction/``."""
        store = self._store
        bucket = store.bucket
        data_prefixes = (EVENTS_PREFIX, COMPACTED_PREFIX, SLOTS_PREFIX, COMPACTION_STATE_PREFIX)
        return _Grant(
            [
                iam.PolicyStatement(actions=list(ATHENA_QUERY), resources=[store.workgroup_arn]),
                iam.PolicyStatement(
                    actions=list(GLUE_READ),
                    resources=[store.catalog_arn, store.database_arn, store.table_arn, store.compacted_table_arn,
                               store.slots_table_arn],
                ),
                iam.PolicyStatement(actions=["s3:GetBucketLocation"], resources=[bucket.bucket_arn]),
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[bucket.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [p + "*" for p in (*data_prefixes, ATHENA_RESULTS_PREFIX)]}},
                ),
                iam.PolicyStatement(
                    actions=["s3:GetObject"], resources=[bucket.arn_for_objects(p + "*") for p in data_prefixes]
                ),
                iam.PolicyStatement(
                    actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                    resources=[bucket.arn_for_objects(ATHENA_RESULTS_PREFIX + "*")],
                ),
            ],
            {
                "CLICKPORT_ATHENA_WORKGROUP": store.workgroup_name,
                "CLICKPORT_ATHENA_DATABASE": store.database_name,
                "CLICKPORT_ATHENA_TABLE": store.table_name,
                "CLICKPORT_ATHENA_TIMEOUT_SECONDS": str(self._config.athena_timeout_seconds),
                "CLICKPORT_ATHENA_COMPACTED_TABLE": store.compacted_table_name,
                "CLICKPORT_ATHENA_SLOTS_TABLE": store.slots_table_name,
                "CLICKPORT_EVENTS_BUCKET": bucket.bucket_name,
            },
            object_prefixes=(*data_prefixes, ATHENA_RESULTS_PREFIX),
            prefixes_reason="Firehose and the compaction job name the Parquet objects Athena reads and each site's "
            "watermark; Athena names its result objects",
        )

    def _edge_trust(self) -> _Grant:
        """The secret CloudFront sends as an origin header; with it, the viewer headers are trusted."""
        return _Grant([], {"CLICKPORT_ORIGIN_SECRET": self._origin_secret})


_GRANTS: dict[str, Callable[[Functions], _Grant]] = {
    "config": Functions._config_read,
    "site-first-event": Functions._site_first_event,
    "live-read": Functions._live_read,
    "live-write": Functions._live_write,
    "firehose": Functions._firehose_write,
    "athena": Functions._athena_query,
    "edge": Functions._edge_trust,
}
