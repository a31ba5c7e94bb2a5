"""AWS compaction in the template (infra/compaction.py): the scheduled function, its IAM, its alarms, the Glue
table of compacted days, and the query functions' settings that split each query at the watermark."""

from __future__ import annotations

import json

import pytest

from clickport.adapters import s3_compaction
from clickport.adapters import compaction as core
from clickport.ingest.drops import METRICS_NAMESPACE
from clickport.settings import Settings
from infra import compaction
from infra.bundling import PYPROJECT, distribution_name
from tests.infra.infra_helpers import permissions, policies_of_role, render

ARN = "arn:${AWS::Partition}"
REGION_ACCOUNT = "${AWS::Region}:${AWS::AccountId}"


def _function(synth):
    return synth.resources[synth.logical_id(synth.stack.compaction.function)]


def _bucket(synth) -> str:
    return "${" + synth.logical_id(synth.stack.store.bucket) + "}"


def _bucket_arn(synth) -> str:
    return "${" + synth.logical_id(synth.stack.store.bucket) + ".Arn}"


# The function


def test_the_function_runs_alone_on_both_layers_with_a_day_sized_memory_and_timeout(synth):
    props = _function(synth)["Properties"]
    assert (props["Runtime"], props["Architectures"], props["Handler"]) == (
        "python3.13", ["arm64"], "handler.lambda_handler")
    assert sorted(layer["Ref"] for layer in props["Layers"]) == sorted(
        [synth.logical_id(synth.stack.functions.layer), synth.logical_id(synth.stack.compaction.arrow_layer)])
    assert props["ReservedConcurrentExecutions"] == 1  # two runs never overlap
    assert props["MemorySize"] == 3008 and props["Timeout"] == 900
    # The job stops starting days well before the timeout.
    assert s3_compaction.STOP_BEFORE_TIMEOUT_SECONDS < props["Timeout"] / 2
    variables = {key: render(value) for key, value in props["Environment"]["Variables"].items()}
    assert variables["CLICKPORT_EVENTS_BUCKET"] == _bucket(synth)
    assert variables["CLICKPORT_BACKEND"] == "aws"
    group = props["LoggingConfig"]["LogGroup"]["Ref"]
    assert synth.resources[group]["Properties"]["RetentionInDays"] == 14


def test_a_failed_run_is_not_retried_and_a_queued_one_expires_within_the_hour(synth):
    (config,) = synth.of_type("AWS::Lambda::EventInvokeConfig").values()
    props = config["Properties"]
    assert props["FunctionName"] == {"Ref": synth.logical_id(synth.stack.compaction.function)}
    assert props["MaximumRetryAttempts"] == 0 and props["MaximumEventAgeInSeconds"] <= 3600


def test_the_arrow_layer_pins_the_same_pyarrow_as_the_local_runtime():
    pinned = [r for r in __import__("tomllib").loads(PYPROJECT.read_text())["project"]["optional-dependencies"]["local"]
              if distribution_name(r) == "pyarrow"]
    assert compaction.arrow_requirements() == tuple(pinned) and len(pinned) == 1


# The schedule


def _rule(synth, rule):
    return synth.resources[synth.logical_id(rule)]["Properties"]


@pytest.mark.parametrize("which, schedule, extra", [
    ("rule", "rate(1 hour)", {}),
    ("full_check_rule", "cron(30 3 * * ? *)", {"recheck_all": True}),  # every served day, once a day
])
def test_the_rules_invoke_the_function_with_a_bounded_catch_up(synth, which, schedule, extra):
    rule = getattr(synth.stack.compaction, which)
    props = _rule(synth, rule)
    assert props["ScheduleExpression"] == schedule and props["State"] == "ENABLED"
    (target,) = props["Targets"]
    function_id = synth.logical_id(synth.stack.compaction.function)
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert json.loads(target["Input"]) == {"max_days": compaction.MAX_DAYS_PER_RUN, **extra}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0
    permissions_for_rule = [p["Properties"] for p in synth.of_type("AWS::Lambda::Permission").values()
                            if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}
                            and render(p["Properties"]["SourceArn"]) == "${" + synth.logical_id(rule) + ".Arn}"]
    assert [p["Principal"] for p in permissions_for_rule] == ["events.amazonaws.com"]


# IAM


def test_the_role_reads_four_prefixes_and_writes_only_compacted_slots_and_state(synth):
    role_id = synth.logical_id(synth.stack.compaction.role)
    bucket = _bucket_arn(synth)
    log_group = synth.logical_id(synth.stack.compaction.function.log_group)
    granted = permissions(policies_of_role(synth.resources, role_id))
    assert granted == {
        ("logs:CreateLogStream", "${" + log_group + ".Arn}", "{}"),
        ("logs:PutLogEvents", "${" + log_group + ".Arn}", "{}"),
        ("s3:ListBucket", bucket, "{}"),
        *{("s3:GetObject", f"{bucket}/{prefix}*", "{}")
          for prefix in ("events/", "compacted/", "compacted_slots/", "compaction/")},
        *{(action, f"{bucket}/{prefix}*", "{}") for prefix in ("compacted/", "compacted_slots/", "compaction/")
          for action in ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")},
    }
    # Firehose's objects are never written or deleted by the job.
    assert not [g for g in granted if g[1].startswith(bucket + "/events/") and g[0] != "s3:GetObject"]
    # The job's prefixes are the ones the stack grants.
    assert (s3_compaction.RAW_PREFIX, s3_compaction.COMPACTED_PREFIX, s3_compaction.SLOTS_PREFIX,
            s3_compaction.STATE_PREFIX) == ("events/", "compacted/", "compacted_slots/", "compaction/")


def test_the_query_functions_read_the_compacted_table_and_the_watermark(synth):
    for name in ("query", "goals"):
        function = synth.stack.functions.functions[name]
        props = synth.resources[synth.logical_id(function)]["Properties"]
        variables = {key: str(render(value)) for key, value in props["Environment"]["Variables"].items()}
        settings = Settings.from_env(variables)
        assert settings.events_bucket == _bucket(synth), name
        assert settings.athena_compacted_table == "events_compacted" == synth.stack.store.compacted_table_name
        assert settings.athena_slots_table == "events_slots" == synth.stack.store.slots_table_name
        role_id = synth.resources[synth.logical_id(function)]["Properties"]["Role"]["Fn::GetAtt"][0]
        granted = permissions(policies_of_role(synth.resources, role_id))
        bucket = _bucket_arn(synth)
        assert ("s3:GetObject", f"{bucket}/compaction/*", "{}") in granted, name
        assert ("s3:GetObject", f"{bucket}/compacted/*", "{}") in granted, name
        assert ("s3:GetObject", f"{bucket}/compacted_slots/*", "{}") in granted, name
        for table_name in ("events_compacted", "events_slots"):
            table = f"{ARN}:glue:{REGION_ACCOUNT}:table/clickport_test/{table_name}"
            assert ("glue:GetTable", table, "{}") in granted and ("glue:GetPartitions", table, "{}") in granted
        # Read only: the query functions never write the job's state.
        assert not [g for g in granted if g[0] in ("s3:PutObject", "s3:DeleteObject") and "/compact" in g[1]]
    realtime = synth.resources[synth.logical_id(synth.stack.functions.functions["realtime"])]["Properties"]
    assert "CLICKPORT_EVENTS_BUCKET" not in realtime["Environment"]["Variables"]


# Glue


def test_the_compacted_table_is_the_events_table_over_compacted(synth):
    events = synth.resources[synth.logical_id(synth.stack.store.table)]["Properties"]
    compacted = synth.resources[synth.logical_id(synth.stack.store.compacted_table)]["Properties"]
    assert compacted["TableInput"]["Name"] == "events_compacted"
    assert compacted["DatabaseName"] == events["DatabaseName"]
    for key in ("PartitionKeys", "TableType"):
        assert compacted["TableInput"][key] == events["TableInput"][key]
    events_sd, compacted_sd = events["TableInput"]["StorageDescriptor"], compacted["TableInput"]["StorageDescriptor"]
    assert {k: v for k, v in compacted_sd.items() if k != "Location"} == {
        k: v for k, v in events_sd.items() if k != "Location"}
    bucket = _bucket(synth)
    assert render(compacted_sd["Location"]) == f"s3://{bucket}/compacted/"
    params = {key: render(value) for key, value in compacted["TableInput"]["Parameters"].items()}
    events_params = {key: render(value) for key, value in events["TableInput"]["Parameters"].items()}
    assert params["storage.location.template"] == f"s3://{bucket}/compacted/site_id=${{site_id}}/dt=${{dt}}/"
    assert {k: v for k, v in params.items() if k != "storage.location.template"} == {
        k: v for k, v in events_params.items() if k != "storage.location.template"}
    # The job writes exactly where the template points.
    assert s3_compaction.compacted_prefix("s1", "2026-03-01") == "compacted/site_id=s1/dt=2026-03-01/"


def test_the_slots_table_reads_the_slot_columns_under_compacted_slots(synth):
    events = synth.resources[synth.logical_id(synth.stack.store.table)]["Properties"]
    slots = synth.resources[synth.logical_id(synth.stack.store.slots_table)]["Properties"]
    assert slots["TableInput"]["Name"] == "events_slots"
    assert slots["DatabaseName"] == events["DatabaseName"]
    for key in ("PartitionKeys", "TableType"):
        assert slots["TableInput"][key] == events["TableInput"][key]
    descriptor = slots["TableInput"]["StorageDescriptor"]
    # Exactly the columns compaction.session_slots writes, with the Glue types of their Parquet types.
    assert [(c["Name"], c["Type"]) for c in descriptor["Columns"]] == list(core.SLOT_COLUMNS)
    glue_types = {"timestamp": "timestamp", "int64": "bigint", "int32": "int", "string": "string"}
    schema = core.slots_schema()
    assert [(f.name, glue_types[str(f.type).split("[")[0]]) for f in schema] == list(core.SLOT_COLUMNS)
    for key in ("InputFormat", "OutputFormat", "SerdeInfo"):
        assert descriptor[key] == events["TableInput"]["StorageDescriptor"][key]
    bucket = _bucket(synth)
    assert render(descriptor["Location"]) == f"s3://{bucket}/compacted_slots/"
    params = {key: render(value) for key, value in slots["TableInput"]["Parameters"].items()}
    events_params = {key: render(value) for key, value in events["TableInput"]["Parameters"].items()}
    assert params["storage.location.template"] == f"s3://{bucket}/compacted_slots/site_id=${{site_id}}/dt=${{dt}}/"
    assert {k: v for k, v in params.items() if k != "storage.location.template"} == {
        k: v for k, v in events_params.items() if k != "storage.location.template"}
    # The job writes exactly where the template points.
    assert s3_compaction.slots_prefix("s1", "2026-03-01") == "compacted_slots/site_id=s1/dt=2026-03-01/"


# Alarms


def _alarm(synth, name):
    return synth.resources[synth.logical_id(synth.stack.compaction.alarms[name])]["Properties"]


def test_the_lag_alarm_watches_the_metric_the_job_publishes_and_fires_when_it_is_missing(synth):
    props = _alarm(synth, "compaction-lag")
    assert (props["Namespace"], props["MetricName"]) == (METRICS_NAMESPACE, s3_compaction.LAG_METRIC)
    assert [(d["Name"], render(d["Value"])) for d in props["Dimensions"]] == [
        (s3_compaction.METRIC_DIMENSION, _bucket(synth))]
    assert (props["Statistic"], props["Period"]) == ("Maximum", 3600)
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and props["Threshold"] == 2
    assert props["EvaluationPeriods"] == props["DatapointsToAlarm"] == 3
    assert props["TreatMissingData"] == "breaching"  # a job that does not run publishes nothing
    assert props["AlarmActions"] == [{"Ref": synth.logical_id(synth.stack.monitoring.topic)}]


def test_the_errors_alarm_watches_the_function_on_the_stack_topic(synth):
    props = _alarm(synth, "compaction-errors")
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert props["Dimensions"] == [{"Name": "FunctionName",
                                    "Value": {"Ref": synth.logical_id(synth.stack.compaction.function)}}]
    assert props["Threshold"] == 1 and props["EvaluationPeriods"] == 2 and props["Period"] == 3600
    assert props["TreatMissingData"] == "notBreaching"
    assert props["AlarmActions"] == [{"Ref": synth.logical_id(synth.stack.monitoring.topic)}]


# Firehose


def test_the_buffer_interval_comes_from_the_deploy_settings(synth):
    streams = synth.of_type("AWS::KinesisFirehose::DeliveryStream").values()
    intervals = {s["Properties"]["ExtendedS3DestinationConfiguration"]["BufferingHints"]["IntervalInSeconds"]
                 for s in streams}
    assert intervals == {synth.context["clickport:firehoseBufferSeconds"]}
    # Compaction waits for a day to settle: longer than any buffer interval the settings allow.
    assert s3_compaction.SETTLE_SECONDS > 900


# The real layers (pip for arm64 / Python 3.13, cached under .bundle-cache/ like the common layer)

LAMBDA_UNZIPPED_LIMIT = 262_144_000  # function and all its layers, unzipped (Lambda quotas: 250 MB)


def _size(root) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def test_the_real_compaction_bundle_fits_lambdas_unzipped_limit(tmp_path):
    from infra.bundling import FUNCTIONS_DIR, FunctionBundler, LayerBundler, runtime_requirements

    arrow = tmp_path / "arrow"
    compaction.ArrowLayerBundler(compaction.arrow_requirements()).try_bundle(str(arrow))
    common = tmp_path / "common"
    LayerBundler(runtime_requirements()).try_bundle(str(common))
    function = tmp_path / "function"
    FunctionBundler(FUNCTIONS_DIR / compaction.FUNCTION_NAME).try_bundle(str(function))

    assert (arrow / "python" / "pyarrow" / "parquet" / "__init__.py").is_file()
    assert list((arrow / "python" / "pyarrow").glob("libparquet.so*"))
    assert not (arrow / "python" / "clickport").exists()  # the package comes from the common layer only
    assert (function / "__pycache__" / "handler.cpython-313.pyc").is_file()
    total = _size(arrow) + _size(common) + _size(function)
    assert total < LAMBDA_UNZIPPED_LIMIT, f"{total / 2**20:.0f} MiB"
    print(f"compaction bundle unzipped: arrow {_size(arrow) / 2**20:.0f} MiB, common {_size(common) / 2**20:.0f} "
          f"MiB, total {total / 2**20:.0f} MiB")
