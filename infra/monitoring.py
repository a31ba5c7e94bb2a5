"""Alarms → one SNS topic: what breaks the event path, and what would silently lose or delay events.

- Functions: Lambda errors (the function raised) and throttles, and the answers they give themselves:
  handled 500s (a bug) and, on the event function, 503s (an event not acknowledged). Those are EMF
  metrics (``clickport.http.observability``): Lambda counts neither as an error.
- API: the share of 5xx answers API Gateway gave (whatever their source: a throttled function too).
- Firehose, over every delivery stream: delivery to S3, Parquet conversion, data freshness, throttled
  records, the active-partition limit, and put calls close to the per-stream quota.
- DynamoDB: read and write throttles of both tables.

Not here: the compaction function's alarms (its lag and its errors, on this topic) are built with it in
``infra/compaction.py``.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from clickport.http.observability import SERVER_ERRORS_METRIC, service_name
from clickport.ingest.drops import METRICS_NAMESPACE
from infra.config import DeployConfig
from infra.ingest import EventIngest

PERIOD = Duration.minutes(5)
PERIOD_SECONDS = 300
# A CloudWatch alarm's metric math takes at most 10 metrics: bigger stream sets are alarmed in groups.
MAX_ALARM_METRICS = 10
# AWS, "Implement best practices with CloudWatch Alarms" (Firehose): "IncomingPutRequests (Sum per 5 Minutes)
# / 300 approaches a percentage of PutRequestsPerSecondLimit."
PUT_REQUESTS_ALARM_SHARE = 0.8
API_5XX_ALARM_PERCENT = 1
API_5XX_MIN_REQUESTS = 100


class Monitoring(Construct):
    """Every alarm fires on the first bad datapoint; missing data (no traffic) is fine."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: dict[str, lambda_.Function],
        tables: dict[str, dynamodb.Table],
        ingest: EventIngest,
        config: DeployConfig,
        api: apigwv2.HttpApi | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "AlarmTopic", display_name="Clickport alarms", enforce_ssl=True)
        Validations.of(self.topic).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SNS2",
                reason="Alarm notifications carry only alarm names, metrics and thresholds, no visitor data; "
                "CloudWatch cannot publish to a topic under the AWS-managed SNS key, and a customer-managed "
                "key would cost more than the rest of an idle stack.",
            )
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        for name, function in functions.items():
            self._alarm(f"{name}-errors", function.metric_errors(period=PERIOD, statistic="Sum"), 1)
            self._alarm(f"{name}-throttles", function.metric_throttles(period=PERIOD, statistic="Sum"), 1)
            self._alarm(f"{name}-server-errors", server_errors_metric(name, 500), 1)
        # Every 503 of the event function is an event that was not stored (the tracker does not retry).
        self._alarm("event-unavailable", server_errors_metric("event", 503), 1)

        if api is not None:
            self._alarm(
                "api-5xx-rate",
                cloudwatch.MathExpression(
                    expression=f"IF(requests >= {API_5XX_MIN_REQUESTS}, 100 * errors / requests, 0)",
                    using_metrics={
                        "errors": api.metric_server_error(period=PERIOD, statistic="Sum"),
                        "requests": api.metric_count(period=PERIOD, statistic="Sum"),
                    },
                    label="API 5xx answers, % of requests",
                    period=PERIOD,
                ),
                API_5XX_ALARM_PERCENT,
            )

        streams = ingest.stream_names
        self._streams_alarm(
            "firehose-delivery-failures", streams, "MIN", "DeliveryToS3.Success", "Minimum", 1,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        )
        self._streams_alarm("firehose-conversion-failures", streams, "SUM", "FailedConversion.Records", "Sum", 1)
        # Parquet files land within about 1.5 × the buffer interval; far beyond that, delivery is stuck.
        self._streams_alarm(
            "firehose-data-freshness", streams, "MAX", "DeliveryToS3.DataFreshness", "Maximum",
            config.firehose_buffer_seconds * 3 + 600,
        )
        # "Another metric for which we recommend an alarm is ThrottledRecords." (same AWS page)
        self._streams_alarm("firehose-throttled-records", streams, "SUM", "ThrottledRecords", "Sum", 1)
        # Beyond the active-partition limit (500 per stream by default: one per site and day in the buffer)
        # records go to errors/ (activePartitionExceeded) instead of events/.
        self._streams_alarm("firehose-partition-count-exceeded", streams, "MAX", "PartitionCountExceeded", "Maximum", 1)
        self._put_requests_alarms(streams)

        for name, table in tables.items():
            throttles = cloudwatch.MathExpression(
                expression="reads + writes",
                using_metrics={
                    "reads": table.metric("ReadThrottleEvents", period=PERIOD, statistic="Sum"),
                    "writes": table.metric("WriteThrottleEvents", period=PERIOD, statistic="Sum"),
                },
                label=f"{name} table throttled requests",
                period=PERIOD,
            )
            self._alarm(f"{name}-table-throttles", throttles, 1)

    def _streams_alarm(
        self,
        name: str,
        streams: list[str],
        combine: str,
        metric_name: str,
        statistic: str,
        threshold: float,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ) -> None:
        """One alarm over a metric of every stream (``combine``: SUM, MAX or MIN of them)."""
        for group, chunk in _groups(streams, MAX_ALARM_METRICS):
            metrics = {f"s{i}": _firehose_metric(stream, metric_name, statistic) for i, stream in enumerate(chunk)}
            combined = cloudwatch.MathExpression(
                expression=f"{combine}([{', '.join(metrics)}])",
                using_metrics=metrics,
                label=f"{metric_name} ({combine.lower()} over delivery streams)",
                period=PERIOD,
            )
            self._alarm(name + group, combined, threshold, comparison)

    def _put_requests_alarms(self, streams: list[str]) -> None:
        """Put calls per second against the stream's own quota metric, the busiest stream of each group."""
        for group, chunk in _groups(streams, MAX_ALARM_METRICS // 2):
            metrics: dict[str, cloudwatch.IMetric] = {}
            shares = []
            for i, stream in enumerate(chunk):
                metrics[f"p{i}"] = _firehose_metric(stream, "IncomingPutRequests", "Sum")
                metrics[f"l{i}"] = _firehose_metric(stream, "PutRequestsPerSecondLimit", "Maximum")
                shares.append(f"p{i} / {PERIOD_SECONDS} / l{i}")
            combined = cloudwatch.MathExpression(
                expression=f"MAX([{', '.join(shares)}])",
                using_metrics=metrics,
                label="Firehose put calls per second, share of the per-stream quota",
                period=PERIOD,
            )
            self._alarm("firehose-put-requests-near-limit" + group, combined, PUT_REQUESTS_ALARM_SHARE)

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ) -> None:
        construct_id = "".join(part.capitalize() for part in name.split("-")) + "Alarm"
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_description=f"Clickport: {name.replace('-', ' ')}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=comparison,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms[name] = alarm


def server_errors_metric(function: str, status: int) -> cloudwatch.Metric:
    """The function's own 5xx answers of one status (``clickport.http.observability``)."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=SERVER_ERRORS_METRIC,
        dimensions_map={"service": service_name(function), "status": str(status)},
        statistic="Sum",
        period=PERIOD,
    )


def _groups(items: list[str], size: int) -> list[tuple[str, list[str]]]:
    """``items`` in groups of ``size``: the first group's suffix is empty, then ``-2``, ``-3``, …"""
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    return [("" if n == 0 else f"-{n + 1}", chunk) for n, chunk in enumerate(chunks)]


def _firehose_metric(stream_name: str, metric_name: str, statistic: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/Firehose",
        metric_name=metric_name,
        dimensions_map={"DeliveryStreamName": stream_name},
        statistic=statistic,
        period=PERIOD,
    )
