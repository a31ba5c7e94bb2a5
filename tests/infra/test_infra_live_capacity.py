"""The live table's capacity: on-demand by default with a keys-only realtime index, or provisioned with
autoscaling (``clickport:liveCapacity``), and the deploy settings that choose it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_file

from infra.config import DeployConfig
from infra.tables import INDEX_READ_SHARE, INDEX_WRITE_SHARE
from test_infra_checks import ACCEPTED_LINT_WARNINGS, LINT_REGIONS, _Node

PROVISIONED = {
    "clickport:liveCapacity": "provisioned",
    "clickport:liveReadUnits": "10",
    "clickport:liveWriteUnits": "60",
    "clickport:liveMaxReadUnits": "400",
    "clickport:liveMaxWriteUnits": "3000",
    "clickport:liveTargetUtilization": "65",
}


def _live(synth):
    live = synth.logical_id(synth.stack.tables.live)
    return live, synth.resources[live]["Properties"]


@pytest.fixture(scope="module")
def provisioned(synth, tmp_path_factory):
    """The same synthesis as ``synth`` with the provisioned settings."""
    from infra.app import build_app

    context = {**synth.context, **PROVISIONED}
    outdir = tmp_path_factory.mktemp("cdk.out.provisioned")
    app, stack = build_app(context=context, outdir=str(outdir))
    assembly = app.synth()  # cdk-nag runs here too: an unacknowledged finding raises
    template = assembly.get_stack_by_name(stack.stack_name).template
    return type(synth)(app=app, stack=stack, template=template, outdir=outdir, context=context)


def test_the_realtime_index_projects_keys_only(synth):
    """Only key changes write the index: DynamoDB, "If an update to the table changes the value of an indexed
    key attribute (from A to B), two writes are required" and "If an item is not present in the index before
    or after the item is updated, there is no additional write cost for the index" - with keys only, a
    last-activity write within a bucket costs the index nothing."""
    _, props = _live(synth)
    (index,) = props["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "realtime"
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert [key["AttributeName"] for key in index["KeySchema"]] == ["rt_pk", "rt_sk"]


def test_on_demand_is_the_default_with_no_scaling(synth):
    _, props = _live(synth)
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in props
    assert not synth.of_type("AWS::ApplicationAutoScaling::ScalableTarget")


def test_provisioned_capacity_sets_the_minimum_units_of_table_and_index(provisioned):
    _, props = _live(provisioned)
    assert props.get("BillingMode", "PROVISIONED") == "PROVISIONED"
    assert props["ProvisionedThroughput"] == {"ReadCapacityUnits": 10, "WriteCapacityUnits": 60}
    (index,) = props["GlobalSecondaryIndexes"]
    assert index["ProvisionedThroughput"] == {"ReadCapacityUnits": round(10 * INDEX_READ_SHARE),
                                              "WriteCapacityUnits": round(60 * INDEX_WRITE_SHARE)}
    assert "WarmThroughput" not in props  # pre-warming is for on-demand tables


def test_provisioned_capacity_scales_table_and_index_on_utilization(provisioned):
    live, _ = _live(provisioned)
    targets = provisioned.of_type("AWS::ApplicationAutoScaling::ScalableTarget")
    found = {}
    for logical_id, target in targets.items():
        props = target["Properties"]
        resource_id = json.dumps(provisioned.resolve(props["ResourceId"]))
        found[("/index/realtime" in resource_id, props["ScalableDimension"])] = (
            props["MinCapacity"], props["MaxCapacity"], logical_id)
        assert live in resource_id
    assert {key: value[:2] for key, value in found.items()} == {
        (False, "dynamodb:table:ReadCapacityUnits"): (10, 400),
        (False, "dynamodb:table:WriteCapacityUnits"): (60, 3000),
        (True, "dynamodb:index:ReadCapacityUnits"): (5, 200),
        (True, "dynamodb:index:WriteCapacityUnits"): (30, 1500),
    }
    policies = provisioned.of_type("AWS::ApplicationAutoScaling::ScalingPolicy")
    assert len(policies) == 4
    metrics = set()
    for policy in policies.values():
        config = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        assert config["TargetValue"] == 65
        metrics.add(config["PredefinedMetricSpecification"]["PredefinedMetricType"])
    assert metrics == {"DynamoDBReadCapacityUtilization", "DynamoDBWriteCapacityUtilization"}


def test_cfn_lint_finds_no_errors_in_the_provisioned_template(provisioned):
    template = provisioned.outdir / f"{provisioned.stack.stack_name}.template.json"
    matches = lint_file(Path(template), config=ManualArgs(regions=LINT_REGIONS))
    assert not [str(m) for m in matches if m.rule.id not in ACCEPTED_LINT_WARNINGS]


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"clickport:liveCapacity": "autoscaled"}, "clickport:liveCapacity: must be one of on-demand, provisioned"),
        ({"clickport:liveTargetUtilization": "95"}, "clickport:liveTargetUtilization: must be between 20 and 90"),
        ({"clickport:liveWriteUnits": "500", "clickport:liveMaxWriteUnits": "100"}, "minimum is above the maximum"),
    ],
)
def test_bad_capacity_settings_stop_synthesis_naming_the_key(context, message):
    with pytest.raises(ValueError, match=message):
        DeployConfig.from_context(_Node(context))


def test_capacity_defaults():
    config = DeployConfig.from_context(_Node({}))
    assert (config.live_capacity, config.live_target_utilization) == ("on-demand", 70)
