"""The functions on the AWS backend for tests: DynamoDB, Firehose (into S3) and Athena in moto.

The handlers are called with API Gateway events exactly as on the local backend; only the runtime
differs. Athena runs nothing in moto: each statement it was sent is kept (``athena_sql``) and answers
no rows.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import boto3
from moto import mock_aws

from clickport.domain.keys import issue_key
from clickport.ports import Site
from clickport.runtime import Runtime, set_runtime
from clickport.settings import Settings
from clickport.tables import CONFIG_TABLE, LIVE_TABLE

REGION = "eu-central-1"
ACCOUNT = "123456789012"
BUCKET = "clickport-events-bucket"
SETTINGS = Settings(backend="aws", region=REGION, key_cache_seconds=0, athena_timeout_seconds=5.0)


@dataclass
class AwsStack:
    runtime: Runtime
    site: Site
    keys: dict[str, str]

    def stored_objects(self) -> list[str]:
        """Keys of the objects Firehose delivered to S3 (each holds accepted events)."""
        listing = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET)
        return [item["Key"] for item in listing.get("Contents", [])]

    def athena_sql(self) -> list[str]:
        """Every statement sent to Athena, in order."""
        from moto.athena.models import athena_backends

        executions = athena_backends[ACCOUNT][REGION].executions.values()
        return [e.query for e in sorted(executions, key=lambda e: e.start_time)]


@contextmanager
def aws_stack(monkeypatch) -> Iterator[AwsStack]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(**CONFIG_TABLE.create_table_kwargs(SETTINGS.config_table))
        dynamodb.create_table(**LIVE_TABLE.create_table_kwargs(SETTINGS.live_table))
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        boto3.client("firehose", region_name=REGION).create_delivery_stream(
            DeliveryStreamName=SETTINGS.firehose_stream,
            ExtendedS3DestinationConfiguration={"RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose",
                                                "BucketARN": f"arn:aws:s3:::{BUCKET}"})
        boto3.client("athena", region_name=REGION).create_work_group(Name=SETTINGS.athena_workgroup)
        runtime = Runtime(SETTINGS)
        set_runtime(runtime)
        try:
            site = runtime.config.create_site("example.com")
            keys = {
                "both": issue_key(runtime.config, site.site_id, ["read", "tracker"])[0],
                "read": issue_key(runtime.config, site.site_id, ["read"])[0],
                "tracker": issue_key(runtime.config, site.site_id, ["tracker"])[0],
            }
            yield AwsStack(runtime, site, keys)
        finally:
            set_runtime(None)
