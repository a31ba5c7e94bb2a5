"""AWS compaction: the scheduled function that rewrites each site's closed UTC days of Firehose objects into
``compacted/`` (``clickport.adapters.s3_compaction``), its pyarrow layer, its schedule and its alarms.

- Function: the common layer plus a second layer holding pyarrow only (the common layer leaves pyarrow
  out: the HTTP functions never load it). Reserved concurrency 1: two runs never overlap (the job's
  protocol assumes it). 3,008 MB (about 1.7 vCPU) and 15 minutes: sized for a day of one site of about
  2M events (measured with bench/compaction_memory.py: peak 1,064 MiB at 1M events, 1,792 MiB at 2M;
  docs/deploy.md); the job stops starting new days 4 minutes before the timeout and the next run goes on.
- Schedule: EventBridge, every hour, ``{"max_days": 3}``: each site catches up to 3 days per run (72 a day
  when behind); and daily at 03:30 UTC with ``"recheck_all": true``: every compacted day (not only the
  last 7) is checked against its objects, so events imported into old days become visible within a day. A failed run is not retried (the next hour's run is the retry); an invocation that finds a
  run going is throttled and waits in Lambda's queue (at most an hour) until that run is over.
- IAM: list the bucket (S3 answers a missing manifest or watermark 404 only to a caller that may list);
  read ``events/``, ``compacted/``, ``compacted_slots/`` and ``compaction/``; write and delete under
  ``compacted/``, ``compacted_slots/`` (each compacted day's session slots) and ``compaction/`` only (nothing
  under ``events/``).
- Alarms on the stack's topic: ``CompactionLagDays`` (closed days not yet served from ``compacted/``,
  largest over sites, published by every run) at 2 or more for 3 hours, or missing for 3 hours (the job
  does not run); and the function's errors (a site failed, or the run itself) in 2 hours in a row.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import jsii
from aws_cdk import (
    Acknowledgment,
    AssetHashType,
    BundlingOptions,
    DockerImage,
    Duration,
    ILocalBundling,
    RemovalPolicy,
    Validations,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from clickport.adapters.s3_compaction import LAG_METRIC, METRIC_DIMENSION
from clickport.ingest.drops import METRICS_NAMESPACE
from infra.bundling import (
    _UNUSED_DOCKER_IMAGE,
    LAMBDA_ARCHITECTURE,
    LAMBDA_PYTHON_VERSION,
    LAMBDA_RUNTIME,
    LAYER_DIR,
    PYPROJECT,
    LayerBundler,
    _bytecode_key,
    _digest,
    distribution_name,
    function_code,
)
from infra.config import DeployConfig
from infra.storage import (
    COMPACTED_PREFIX,
    COMPACTION_STATE_PREFIX,
    EVENTS_PREFIX,
    SLOTS_PREFIX,
    EventStore,
    acknowledge_prefix_access,
)

FUNCTION_NAME = "compaction"  # functions/compaction/handler.py
MEMORY_MB = 3008
TIMEOUT = Duration.minutes(15)
SCHEDULE = events.Schedule.rate(Duration.hours(1))
# Once a day every served day is checked (an import of old events lands far behind the hourly lookback).
FULL_CHECK_SCHEDULE = events.Schedule.cron(minute="30", hour="3")
MAX_DAYS_PER_RUN = 3
LAG_ALARM_DAYS = 2
LAG_ALARM_HOURS = 3
ERRORS_ALARM_HOURS = 2
ALARM_PERIOD = Duration.hours(1)


def arrow_requirements(pyproject: Path = PYPROJECT) -> tuple[str, ...]:
    """pyarrow as the local runtime pins it (``[project.optional-dependencies].local``): one version."""
    with pyproject.open("rb") as handle:
        local = tomllib.load(handle)["project"]["optional-dependencies"]["local"]
    return tuple(r for r in local if distribution_name(r) == "pyarrow")


@jsii.implements(ILocalBundling)
class ArrowLayerBundler(LayerBundler):
    """A layer of pyarrow only (built and cached like the common layer's dependencies; no clickport package).
    In ``stub`` bundling it is empty: template tests need its shape, not 150 MB of wheels."""

    def asset_hash(self) -> str:
        mode = self.dependencies_key if self.install_dependencies else "stub"
        return _digest(b"arrow-layer", mode.encode(), _bytecode_key(self.bytecode).encode())

    def try_bundle(self, output_dir: str, options: object = None) -> bool:
        target = self.layer_with_dependencies(output_dir)
        if not self.install_dependencies:
            (target / "STUB").write_text("pyarrow is installed here by a deploy (clickport:bundling=pip)\n")
        return True


class Compaction(Construct):
    """The compaction function, its schedule and its two alarms (see the module docstring)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        store: EventStore,
        common_layer: lambda_.ILayerVersion,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        bucket = store.bucket
        bundler = ArrowLayerBundler(
            arrow_requirements(), install_dependencies=config.bundling == "pip", bytecode=config.bytecode
        )
        self.arrow_layer = lambda_.LayerVersion(
            self,
            "ArrowLayer",
            code=lambda_.Code.from_asset(
                str(LAYER_DIR),
                asset_hash=bundler.asset_hash(),
                asset_hash_type=AssetHashType.CUSTOM,
                bundling=BundlingOptions(image=DockerImage.from_registry(_UNUSED_DOCKER_IMAGE), local=bundler),
            ),
            compatible_runtimes=[LAMBDA_RUNTIME],
            compatible_architectures=[LAMBDA_ARCHITECTURE],
            description=f"pyarrow for the compaction function (arm64, Python {LAMBDA_PYTHON_VERSION})",
        )

        log_group = logs.LogGroup(self, "Logs", retention=config.retention, removal_policy=RemovalPolicy.DESTROY)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="clickport compaction function: its log group; read events/, write compacted/, "
            "compacted_slots/ and compaction/",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        read_prefixes = (EVENTS_PREFIX, COMPACTED_PREFIX, SLOTS_PREFIX, COMPACTION_STATE_PREFIX)
        write_prefixes = (COMPACTED_PREFIX, SLOTS_PREFIX, COMPACTION_STATE_PREFIX)
        # Listing is not narrowed by prefix: a GetObject of a missing manifest or watermark must answer 404
        # (NoSuchKey, "not compacted yet"), which S3 does only for a caller allowed to list the bucket.
        self.role.add_to_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[bucket.arn_for_objects(prefix + "*") for prefix in read_prefixes]
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                resources=[bucket.arn_for_objects(prefix + "*") for prefix in write_prefixes],
            )
        )
        acknowledge_prefix_access(
            self.role,
            bucket,
            read_prefixes,
            "Firehose names the objects the job reads; the job names each compacted file, slots file, manifest and "
            "watermark",
        )

        self.function = lambda_.Function(
            self,
            "Function",
            description="Compaction: closed UTC days of Firehose objects into compacted/, hourly",
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            handler="handler.lambda_handler",
            code=function_code(FUNCTION_NAME, bytecode=config.bytecode),
            layers=[common_layer, self.arrow_layer],
            memory_size=MEMORY_MB,
            timeout=TIMEOUT,
            reserved_concurrent_executions=1,
            role=self.role,
            log_group=log_group,
            environment={
                "CLICKPORT_BACKEND": "aws",
                "CLICKPORT_EVENTS_BUCKET": bucket.bucket_name,
                "POWERTOOLS_SERVICE_NAME": f"clickport-{FUNCTION_NAME}",
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
            # A failed run is not retried: the next scheduled run is. A throttled event (a run still going) is
            # queued by Lambda and runs after it, or is dropped once an hour old.
            retry_attempts=0,
            max_event_age=Duration.hours(1),
        )
        Validations.of(self.function).acknowledge(
            Acknowledgment(
                id="AwsSolutions-L1",
                reason=f"Python {LAMBDA_PYTHON_VERSION} on purpose: the common layer and the pyarrow layer are "
                "built from wheels for exactly this version (infra/bundling.py); a newer runtime means rebuilding "
                "and re-checking every pinned wheel for it, in one change with the bundling target.",
            )
        )

        self.rule = events.Rule(
            self,
            "Schedule",
            description="Clickport: compact closed UTC days every hour",
            schedule=SCHEDULE,
            targets=[
                targets.LambdaFunction(
                    self.function,
                    event=events.RuleTargetInput.from_object({"max_days": MAX_DAYS_PER_RUN}),
                    retry_attempts=0,
                )
            ],
        )
        self.full_check_rule = events.Rule(
            self,
            "FullCheckSchedule",
            description="Clickport: once a day, compaction re-checks every compacted day against its objects",
            schedule=FULL_CHECK_SCHEDULE,
            targets=[
                targets.LambdaFunction(
                    self.function,
                    event=events.RuleTargetInput.from_object({"max_days": MAX_DAYS_PER_RUN, "recheck_all": True}),
                    retry_attempts=0,
                )
            ],
        )

        self.alarms: dict[str, cloudwatch.Alarm] = {}
        lag = cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=LAG_METRIC,
            dimensions_map={METRIC_DIMENSION: bucket.bucket_name},
            statistic="Maximum",
            period=ALARM_PERIOD,
        )
        self._alarm(
            "compaction-lag",
            lag,
            LAG_ALARM_DAYS,
            LAG_ALARM_HOURS,
            cloudwatch.TreatMissingData.BREACHING,
            topic,
            f"Clickport: compaction is {LAG_ALARM_DAYS}+ closed days behind (or has not run) for "
            f"{LAG_ALARM_HOURS} hours; queries stay exact but read Firehose's small objects",
        )
        self._alarm(
            "compaction-errors",
            self.function.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
            1,
            ERRORS_ALARM_HOURS,
            cloudwatch.TreatMissingData.NOT_BREACHING,
            topic,
            f"Clickport: the compaction function failed in {ERRORS_ALARM_HOURS} hourly runs in a row",
        )

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        periods: int,
        missing: cloudwatch.TreatMissingData,
        topic: sns.ITopic,
        description: str,
    ) -> None:
        construct_id = "".join(part.capitalize() for part in name.split("-")) + "Alarm"
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(actions.SnsAction(topic))
        self.alarms[name] = alarm
