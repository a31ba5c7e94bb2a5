"""Template assertions for where data lives: DynamoDB tables, the events bucket, Glue, Athena, Firehose."""

from __future__ import annotations

from infra_helpers import render

from clickport.schema import PARTITION_COLUMNS, glue_columns
from clickport.tables import CONFIG_TABLE, LIVE_TABLE


def _table(synth, table):
    return synth.resources[synth.logical_id(table)]


def _sorted(items):
    return sorted(items, key=lambda item: sorted(item.items()) if isinstance(item, dict) else item)


# Tables


def test_tables_use_the_key_schemas_the_adapters_use(synth):
    for schema, table in ((CONFIG_TABLE, synth.stack.tables.config), (LIVE_TABLE, synth.stack.tables.live)):
        props = _table(synth, table)["Properties"]
        assert props["KeySchema"] == schema.key_schema()
        assert _sorted(props["AttributeDefinitions"]) == _sorted(schema.attribute_definitions())
        indexes = [{k: v for k, v in index.items() if k != "WarmThroughput"}  # pre-warming: test below
                   for index in props.get("GlobalSecondaryIndexes", [])]
        assert indexes == schema.global_secondary_indexes()
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["SSESpecification"]["SSEEnabled"] is True


def test_only_the_live_table_and_its_index_are_pre_warmed_for_the_context_write_rate(synth):
    """DynamoDB: "New on-demand tables will be able to sustain up to 4,000 writes per second and 12,000 reads
    per second"; a burst of 5,000 events/s writes about 17,000 units/s to the live table."""
    live = _table(synth, synth.stack.tables.live)["Properties"]
    warm = {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 20000}
    assert live["WarmThroughput"] == warm
    assert all(index["WarmThroughput"] == warm for index in live["GlobalSecondaryIndexes"])
    assert "WarmThroughput" not in _table(synth, synth.stack.tables.config)["Properties"]


def test_live_table_expires_items_and_has_the_realtime_index(synth):
    props = _table(synth, synth.stack.tables.live)["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": LIVE_TABLE.ttl_attribute, "Enabled": True}
    assert [index["IndexName"] for index in props["GlobalSecondaryIndexes"]] == ["realtime"]


def test_only_the_config_table_is_backed_up_and_kept_on_stack_deletion(synth):
    config = _table(synth, synth.stack.tables.config)
    live = _table(synth, synth.stack.tables.live)
    assert config["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert live["Properties"].get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") in (
        None,
        False,
    )
    assert config["DeletionPolicy"] == "Retain"
    assert live["DeletionPolicy"] == "Delete"
    assert "TimeToLiveSpecification" not in config["Properties"]


# Buckets


def test_every_bucket_is_encrypted_private_and_tls_only(synth):
    buckets = synth.of_type("AWS::S3::Bucket")
    assert len(buckets) == 2
    policies = {
        policy["Properties"]["Bucket"]["Ref"]: policy["Properties"]["PolicyDocument"]["Statement"]
        for policy in synth.of_type("AWS::S3::BucketPolicy").values()
    }
    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        assert any(
            statement["Effect"] == "Deny"
            and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            and statement["Principal"] == {"AWS": "*"}
            for statement in policies[logical_id]
        ), logical_id


def test_events_bucket_expires_firehose_errors_and_athena_results_only(synth):
    bucket = synth.resources[synth.logical_id(synth.stack.store.bucket)]
    rules = {rule["Id"]: rule for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-firehose-errors"]["Prefix"] == "errors/"
    assert rules["expire-firehose-errors"]["ExpirationInDays"] == 21
    assert rules["expire-athena-results"]["Prefix"] == "athena-results/"
    assert rules["expire-athena-results"]["ExpirationInDays"] == 3
    assert not any("ExpirationInDays" in rule and "Prefix" not in rule for rule in rules.values())
    assert bucket["DeletionPolicy"] == "Retain"


# Glue and Athena


def _glue_table(synth):
    return synth.resources[synth.logical_id(synth.stack.store.table)]["Properties"]  # events_compacted: its own test


def test_glue_columns_equal_the_event_schema(synth):
    table = _glue_table(synth)["TableInput"]
    columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    assert columns == [(c["name"], c["type"]) for c in glue_columns()]
    assert [(c["Name"], c["Type"]) for c in table["PartitionKeys"]] == [(c.name, c.type) for c in PARTITION_COLUMNS]


def test_glue_table_is_parquet_with_site_and_date_projection(synth):
    props = _glue_table(synth)
    table = props["TableInput"]
    bucket = synth.logical_id(synth.stack.store.bucket)
    params = {key: render(value) for key, value in table["Parameters"].items()}
    assert params == {
        "classification": "parquet",
        "projection.enabled": "true",
        "projection.site_id.type": "injected",
        "projection.dt.type": "date",
        "projection.dt.format": "yyyy-MM-dd",
        "projection.dt.range": "2000-01-01,NOW+1DAYS",
        "projection.dt.interval": "1",
        "projection.dt.interval.unit": "DAYS",
        "storage.location.template": f"s3://${{{bucket}}}/events/site_id=${{site_id}}/dt=${{dt}}/",
    }
    descriptor = table["StorageDescriptor"]
    assert render(descriptor["Location"]) == f"s3://${{{bucket}}}/events/"
    assert descriptor["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert descriptor["InputFormat"].endswith("MapredParquetInputFormat")
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert props["DatabaseName"] == "clickport_test"


def test_athena_workgroup_enforces_engine_v3_results_location_and_scan_cutoff(synth):
    (workgroup,) = synth.of_type("AWS::Athena::WorkGroup").values()
    props = workgroup["Properties"]
    config = props["WorkGroupConfiguration"]
    bucket = synth.logical_id(synth.stack.store.bucket)
    assert props["Name"] == "clickport-test"
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["EngineVersion"]["SelectedEngineVersion"] == "Athena engine version 3"
    assert config["BytesScannedCutoffPerQuery"] == 5 * 1024**3
    assert render(config["ResultConfiguration"]["OutputLocation"]) == f"s3://${{{bucket}}}/athena-results/"
    assert config["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_S3"


# Firehose


def _firehose(synth):
    """The delivery streams' common configuration (they are alike: the event sink spreads events over them)."""
    streams = [stream["Properties"] for stream in synth.of_type("AWS::KinesisFirehose::DeliveryStream").values()]
    assert all(props == streams[0] for props in streams)
    return streams[0]


def test_the_number_of_delivery_streams_comes_from_context(synth):
    streams = synth.of_type("AWS::KinesisFirehose::DeliveryStream")
    assert len(streams) == 3
    assert sorted(synth.logical_id(stream) for stream in synth.stack.ingest.streams) == sorted(streams)


def test_firehose_is_direct_put_and_encrypted(synth):
    props = _firehose(synth)
    assert props["DeliveryStreamType"] == "DirectPut"
    assert props["DeliveryStreamEncryptionConfigurationInput"] == {"KeyType": "AWS_OWNED_CMK"}


def test_firehose_partitions_by_site_and_day_from_jq_fields(synth):
    destination = _firehose(synth)["ExtendedS3DestinationConfiguration"]
    assert destination["Prefix"] == "events/site_id=!{partitionKeyFromQuery:site_id}/dt=!{partitionKeyFromQuery:dt}/"
    assert destination["ErrorOutputPrefix"].startswith("errors/!{firehose:error-output-type}/")
    assert destination["DynamicPartitioningConfiguration"]["Enabled"] is True
    (processor,) = destination["ProcessingConfiguration"]["Processors"]
    assert processor["Type"] == "MetadataExtraction"
    parameters = {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}
    assert parameters == {"MetadataExtractionQuery": "{site_id: .site_id, dt: .dt}", "JsonParsingEngine": "JQ-1.6"}


def test_firehose_converts_json_to_parquet_with_the_glue_table(synth):
    destination = _firehose(synth)["ExtendedS3DestinationConfiguration"]
    conversion = destination["DataFormatConversionConfiguration"]
    assert conversion["Enabled"] is True
    assert "OpenXJsonSerDe" in conversion["InputFormatConfiguration"]["Deserializer"]
    assert conversion["OutputFormatConfiguration"]["Serializer"]["ParquetSerDe"]["Compression"] == "SNAPPY"
    schema = conversion["SchemaConfiguration"]
    glue = _glue_table(synth)
    assert schema["DatabaseName"] == glue["DatabaseName"]
    assert schema["TableName"] == glue["TableInput"]["Name"]
    assert schema["VersionId"] == "LATEST"
    assert destination["CompressionFormat"] == "UNCOMPRESSED"
    assert render(destination["BucketARN"]) == "${" + synth.logical_id(synth.stack.store.bucket) + ".Arn}"


def test_firehose_buffer_interval_comes_from_context(synth):
    hints = _firehose(synth)["ExtendedS3DestinationConfiguration"]["BufferingHints"]
    assert hints == {"IntervalInSeconds": 120, "SizeInMBs": 64}


def test_firehose_logs_delivery_errors(synth):
    logging = _firehose(synth)["ExtendedS3DestinationConfiguration"]["CloudWatchLoggingOptions"]
    assert logging["Enabled"] is True
    assert render(logging["LogGroupName"]) == "${" + synth.logical_id(synth.stack.ingest.log_group) + "}"
