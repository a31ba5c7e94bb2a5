"""Reading a synthesized CloudFormation template: intrinsics rendered as readable strings, policy statements."""

from __future__ import annotations

import json
from typing import Any, Iterator


def render(value: Any) -> Any:
    """``{"Fn::GetAtt": ["T", "Arn"]}`` → ``"${T.Arn}"``, ``{"Ref": "X"}`` → ``"${X}"``, joins concatenated."""
    if isinstance(value, list):
        return [render(item) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return "${" + value["Ref"] + "}"
    if set(value) == {"Fn::GetAtt"}:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(render(part)) for part in parts)
    return {key: render(item) for key, item in value.items()}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return as_list(document["Statement"])


def permissions(policy_statements: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """Each (action, resource, condition) an Allow statement grants, resources rendered."""
    granted = set()
    for statement in policy_statements:
        assert statement["Effect"] == "Allow", statement
        condition = json.dumps(statement.get("Condition", {}), sort_keys=True)
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                granted.add((action, render(resource), condition))
    return granted


def policies_of_role(resources: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    """Statements of every AWS::IAM::Policy attached to the role, plus its inline policies."""
    found = []
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]:
            found += statements(resource["Properties"]["PolicyDocument"])
    for inline in resources[role_id]["Properties"].get("Policies", []):
        found += statements(inline["PolicyDocument"])
    return found


def all_policy_statements(resources: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every identity and resource policy statement in the template, with the resource that holds it."""
    documents = {
        "AWS::IAM::Policy": "PolicyDocument",
        "AWS::S3::BucketPolicy": "PolicyDocument",
        "AWS::SNS::TopicPolicy": "PolicyDocument",
    }
    for logical_id, resource in resources.items():
        kind = resource["Type"]
        if kind in documents:
            for statement in statements(resource["Properties"][documents[kind]]):
                yield logical_id, statement
        if kind == "AWS::IAM::Role":
            for inline in resource["Properties"].get("Policies", []):
                for statement in statements(inline["PolicyDocument"]):
                    yield logical_id, statement
