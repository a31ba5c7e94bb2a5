"""Alarms: function errors and throttles, Firehose delivery failures, DynamoDB throttles → one SNS topic."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import DeployConfig
from infra.ingest import EventIngest

PERIOD = Duration.minutes(5)


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

        stream_name = ingest.stream_name
        self._alarm(
            "firehose-delivery-failures",
            _firehose_metric(stream_name, "DeliveryToS3.Success", "Minimum"),
            1,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        )
        self._alarm("firehose-conversion-failures", _firehose_metric(stream_name, "FailedConversion.Records", "Sum"), 1)
        # Parquet files land within about 1.5 × the buffer interval; far beyond that, delivery is stuck.
        self._alarm(
            "firehose-data-freshness",
            _firehose_metric(stream_name, "DeliveryToS3.DataFreshness", "Maximum"),
            config.firehose_buffer_seconds * 3 + 600,
        )

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


def _firehose_metric(stream_name: str, metric_name: str, statistic: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/Firehose",
        metric_name=metric_name,
        dimensions_map={"DeliveryStreamName": stream_name},
        statistic=statistic,
        period=PERIOD,
    )
