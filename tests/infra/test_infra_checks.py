"""Whole-template checks: cdk-nag on every synthesis, cfn-lint, and the deployment settings from context."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aws_cdk import Stack, Validations
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint_file

from infra.config import DeployConfig, context_key

# cfn-lint findings the CDK itself produces and we accept: a DependsOn that a GetAtt already implies.
ACCEPTED_LINT_WARNINGS = {"W3005"}
LINT_REGIONS = ["us-east-1", "eu-central-1", "ap-southeast-2"]


def test_cdk_nag_finds_nothing_unacknowledged_in_the_stack(synth):
    report = AwsSolutionsChecks().validate_scope(synth.stack)
    assert report.success, [(v.rule_name, v.description) for v in report.violations]
    assert (synth.outdir / "validation-report.json").is_file()


def test_an_unacknowledged_finding_stops_synthesis(synth):
    """The app registers cdk-nag, and its IAM acknowledgements cover named resources only, not IAM5 as a whole."""
    from infra.app import build_app

    app, stack = build_app(context={**synth.context, "clickport:bundling": "stub"}, outdir=str(synth.outdir / "bad"))
    stack.functions.functions["query"].add_to_role_policy(
        iam.PolicyStatement(actions=["athena:ListWorkGroups"], resources=["*"])
    )
    with pytest.raises(Exception, match=r"AwsSolutions-IAM5\[Resource::\*\]"):
        app.synth()


def _acknowledgements(stack: Stack) -> list[tuple[str, str, str]]:
    found = []
    for construct in stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                found += [(construct.node.path, rule, reason) for rule, reason in entry.data.items()]
    return found


def test_every_acknowledgement_is_on_a_resource_and_gives_a_specific_reason(synth):
    acknowledgements = _acknowledgements(synth.stack)
    assert len(acknowledgements) >= 10
    for path, rule, reason in acknowledgements:
        rule_id = rule.removeprefix("Annotation::")
        assert re.fullmatch(r"AwsSolutions-[A-Z]+\d+(\[.+\])?", rule_id), (path, rule)
        assert path != synth.stack.node.path, f"{rule} acknowledged for the whole stack"
        assert len(reason) >= 80, (path, rule, reason)
        if rule_id.startswith("AwsSolutions-IAM5"):
            assert "[Resource::" in rule_id, f"{path}: IAM5 must name the resource it accepts"


def test_cfn_lint_finds_no_errors_in_the_template(synth):
    template = synth.outdir / f"{synth.stack.stack_name}.template.json"
    matches = lint_file(Path(template), config=ManualArgs(regions=LINT_REGIONS))
    unexpected = [str(m) for m in matches if m.rule.id not in ACCEPTED_LINT_WARNINGS]
    assert not unexpected
    assert all(not m.rule.id.startswith("E") for m in matches)


# Deployment settings


class _Node:
    def __init__(self, context):
        self.context = context

    def try_get_context(self, key):
        return self.context.get(key)


def test_context_keys_are_camel_case_under_the_clickport_prefix():
    assert context_key("firehose_buffer_seconds") == "clickport:firehoseBufferSeconds"
    assert context_key("stage") == "clickport:stage"


def test_config_defaults_apply_without_context():
    config = DeployConfig.from_context(_Node({}))
    assert config == DeployConfig()
    assert (config.stage, config.firehose_buffer_seconds, config.bundling) == ("prod", 300, "pip")


def test_config_reads_context_values_given_as_strings_on_the_command_line():
    config = DeployConfig.from_context(
        _Node({"clickport:firehoseBufferSeconds": "300", "clickport:logRetentionDays": "90", "clickport:stage": "dev"})
    )
    assert (config.firehose_buffer_seconds, config.log_retention_days, config.stage) == (300, 90, "dev")
    assert DeployConfig.from_context(_Node({"clickport:bytecode": "false"})).bytecode is False
    assert DeployConfig.from_context(_Node({"clickport:bytecode": True})).bytecode is True


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("clickport:firehoseBufferSeconds", 30, "between 60 and 900"),
        ("clickport:logRetentionDays", 10, "must be one of"),
        ("clickport:stage", "Prod_1", "lowercase letters or digits"),
        ("clickport:bundling", "docker", "must be one of pip, stub"),
        ("clickport:athenaTimeoutSeconds", 30, "between 1 and 27"),
        ("clickport:alarmEmail", "not-an-address", "e-mail address"),
        ("clickport:stackName", "1stack", "stack name"),
        ("clickport:bytecode", "yes", "true or false"),
    ],
)
def test_config_rejects_bad_context_values_naming_the_key(key, value, message):
    with pytest.raises(ValueError, match=rf"context {key}: .*{message}"):
        DeployConfig.from_context(_Node({key: value}))
