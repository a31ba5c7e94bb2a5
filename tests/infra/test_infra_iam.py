"""Least privilege: no wildcard actions or resources anywhere, and each role grants exactly what its job needs."""

from __future__ import annotations

import json

from infra_helpers import all_policy_statements, as_list, permissions, policies_of_role, render

NO_CONDITION = "{}"
ARN = "arn:${AWS::Partition}"
REGION_ACCOUNT = "${AWS::Region}:${AWS::AccountId}"


def test_no_policy_statement_allows_a_wildcard_action(synth):
    allows = 0
    for holder, statement in all_policy_statements(synth.resources):
        if statement["Effect"] == "Deny":
            continue  # e.g. the buckets' "deny s3:* without TLS": a wildcard there only takes away
        allows += 1
        for action in as_list(statement["Action"]):
            assert "*" not in action, (holder, action)
        assert "NotAction" not in statement and "NotResource" not in statement, holder
    assert allows > 20


def test_no_allow_statement_applies_to_every_resource(synth):
    for holder, statement in all_policy_statements(synth.resources):
        if statement["Effect"] == "Allow":
            assert "*" not in as_list(render(statement["Resource"])), holder


def test_no_role_uses_a_managed_policy(synth):
    for logical_id, role in synth.of_type("AWS::IAM::Role").items():
        assert "ManagedPolicyArns" not in role["Properties"], logical_id


class Names:
    """Rendered ARNs of this stack's resources, as they appear in policies."""

    def __init__(self, synth):
        stack = synth.stack
        self.config = "${" + synth.logical_id(stack.tables.config) + ".Arn}"
        self.live = "${" + synth.logical_id(stack.tables.live) + ".Arn}"
        self.bucket = "${" + synth.logical_id(stack.store.bucket) + ".Arn}"
        self.streams = ["${" + synth.logical_id(stream) + ".Arn}" for stream in stack.ingest.streams]
        self.workgroup = f"{ARN}:athena:{REGION_ACCOUNT}:workgroup/clickport-test"
        self.glue = {
            f"{ARN}:glue:{REGION_ACCOUNT}:catalog",
            f"{ARN}:glue:{REGION_ACCOUNT}:database/clickport_test",
            f"{ARN}:glue:{REGION_ACCOUNT}:table/clickport_test/events",
        }
        self.compacted_table = f"{ARN}:glue:{REGION_ACCOUNT}:table/clickport_test/events_compacted"
        self.slots_table = f"{ARN}:glue:{REGION_ACCOUNT}:table/clickport_test/events_slots"
        self.synth = synth

    def log_group(self, name: str) -> str:
        function = self.synth.stack.functions.functions[name]
        group_id = self.synth.resources[self.synth.logical_id(function)]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        return "${" + group_id + ".Arn}"


def _role_permissions(synth, name: str) -> set[tuple[str, str, str]]:
    function = synth.resources[synth.logical_id(synth.stack.functions.functions[name])]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return permissions(policies_of_role(synth.resources, role_id))


def _grant(actions, resources, condition=NO_CONDITION) -> set[tuple[str, str, str]]:
    return {(action, resource, condition) for action in actions for resource in resources}


def _logs(names, name):
    return _grant(["logs:CreateLogStream", "logs:PutLogEvents"], [names.log_group(name)])


def _config_read(names):
    return _grant(["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"], [names.config])


def _athena(names):
    # events/ (Firehose), compacted/ and compacted_slots/ (closed days and their session slots, up to each site's
    # watermark), compaction/ (the watermark).
    data = ["events/*", "compacted/*", "compacted_slots/*", "compaction/*"]
    prefixes = json.dumps({"StringLike": {"s3:prefix": [*data, "athena-results/*"]}}, sort_keys=True)
    results = names.bucket + "/athena-results/*"
    return (
        _grant(
            [
                "athena:StartQueryExecution",
                "athena:GetQueryExecution",
                "athena:GetQueryResults",
                "athena:StopQueryExecution",
            ],
            [names.workgroup],
        )
        | _grant(["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"], [*names.glue, names.compacted_table, names.slots_table])
        | _grant(["s3:GetBucketLocation"], [names.bucket])
        | _grant(["s3:ListBucket"], [names.bucket], prefixes)
        | _grant(["s3:GetObject"], [names.bucket + "/" + prefix for prefix in data] + [results])
        | _grant(["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"], [results])
    )


def test_event_function_reads_config_notes_first_event_dates_writes_live_table_and_firehose(synth):
    names = Names(synth)
    site_items_only = json.dumps({"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["SITE"]}}, sort_keys=True)
    assert _role_permissions(synth, "event") == (
        _logs(names, "event")
        | _config_read(names)
        | _grant(["dynamodb:UpdateItem"], [names.config], site_items_only)
        | _grant(
            [
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
                "dynamodb:Query",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            ],
            [names.live],
        )
        | _grant(["firehose:PutRecord", "firehose:PutRecordBatch"], names.streams)
    )


def test_query_and_goals_functions_read_config_and_run_athena_in_their_workgroup(synth):
    names = Names(synth)
    for name in ("query", "goals"):
        assert _role_permissions(synth, name) == _logs(names, name) | _config_read(names) | _athena(names), name


def test_realtime_function_reads_config_and_the_live_table_with_its_index(synth):
    names = Names(synth)
    assert _role_permissions(synth, "realtime") == (
        _logs(names, "realtime")
        | _config_read(names)
        | _grant(
            ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"],
            [names.live, names.live + "/index/realtime"],
        )
    )


def test_firehose_role_writes_only_its_prefixes_and_reads_only_its_table_schema(synth):
    names = Names(synth)
    role_id = synth.logical_id(synth.stack.ingest.role)
    log_group = "${" + synth.logical_id(synth.stack.ingest.log_group) + "}"
    assert permissions(policies_of_role(synth.resources, role_id)) == (
        _grant(["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"], [names.bucket])
        | _grant(
            ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            [names.bucket + "/events/*", names.bucket + "/errors/*"],
        )
        | _grant(["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"], names.glue)
        | _grant(
            ["logs:PutLogEvents"], [f"{ARN}:logs:{REGION_ACCOUNT}:log-group:{log_group}:log-stream:S3Delivery"]
        )
    )
    trust = synth.resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust[0]["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert render(trust[0]["Condition"]) == {"StringEquals": {"sts:ExternalId": "${AWS::AccountId}"}}


def test_tracker_upload_may_only_put_and_delete_the_one_script_object_and_invalidate_it(synth):
    bucket = "${" + synth.logical_id(synth.stack.edge.tracker_bucket) + ".Arn}"
    distribution = "${" + synth.logical_id(synth.stack.edge.distribution) + "}"
    providers = {resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0] for resource in synth.of_type("Custom::AWS").values()}
    (provider_id,) = providers  # one provider function (and role) for both deploy-time calls
    role_id = synth.resources[provider_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    # The provider (and its role) is shared with the dashboard's copies: tests/infra/test_infra_dashboard.py.
    granted = {(action, resource, condition)
               for action, resource, condition in permissions(policies_of_role(synth.resources, role_id))
               if "/dashboard/" not in resource and not (action == "s3:GetObject" and resource != bucket + "/cp.js")}
    assert {(action, resource) for action, resource, _ in granted if not action.startswith("logs:")} == {
        ("s3:PutObject", bucket + "/cp.js"),
        ("s3:DeleteObject", bucket + "/cp.js"),
        ("cloudfront:CreateInvalidation", f"{ARN}:cloudfront::${{AWS::AccountId}}:distribution/{distribution}"),
    }
    assert {action for action, _, _ in granted} == {
        "s3:PutObject", "s3:DeleteObject", "cloudfront:CreateInvalidation", "logs:CreateLogStream", "logs:PutLogEvents"
    }
