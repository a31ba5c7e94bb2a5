"""`clickport --aws`: reads the deployed stack's outputs and operates its DynamoDB tables (moto)."""

import json

import boto3
import pytest
from moto import mock_aws

from clickport.cli.aws import OUTPUTS
from clickport.cli.main import main
from clickport.domain.keys import hash_key
from clickport.tables import CONFIG_TABLE, LIVE_TABLE

REGION = "eu-central-1"


@pytest.fixture
def deployed(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("CLICKPORT_BACKEND", raising=False)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(**CONFIG_TABLE.create_table_kwargs("clickport-prod-config"))
        dynamodb.create_table(**LIVE_TABLE.create_table_kwargs("clickport-prod-live"))
        values = {
            "ConfigTableName": "clickport-prod-config", "LiveTableName": "clickport-prod-live",
            "FirehoseStreamName": "clickport-prod-events", "AthenaWorkgroupName": "clickport-prod",
            "AthenaDatabaseName": "clickport_prod", "AthenaTableName": "events", "Region": REGION,
        }
        assert set(values) == set(OUTPUTS)
        template = {
            "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
            "Outputs": {name: {"Value": value} for name, value in values.items()},
        }
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName="ClickportDev", TemplateBody=json.dumps(template))
        yield dynamodb


def _run(capsys, *args):
    status = main(list(args))
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out)


def test_aws_mode_manages_sites_and_keys_in_the_stacks_tables(deployed, capsys):
    site = _run(capsys, "--aws", "--stack", "ClickportDev", "sites", "create", "--domain", "example.com", "--json")
    key = _run(capsys, "--aws", "--stack", "ClickportDev", "keys", "create", "--site", site["site_id"], "--json")
    items = deployed.scan(TableName="clickport-prod-config")["Items"]
    dumped = json.dumps(items)
    assert site["site_id"] in dumped and hash_key(key["key"]) in dumped
    assert key["key"] not in dumped  # only the hash is stored
    listed = _run(capsys, "--aws", "--stack", "ClickportDev", "sites", "list", "--json")
    assert [s["domain"] for s in listed] == ["example.com"]


def test_aws_mode_with_an_unknown_stack_is_one_line(deployed, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--aws", "--stack", "Nope", "sites", "list"])
    _, err = capsys.readouterr()
    assert exit_.value.code == 1 and err.startswith("clickport: error: cannot read stack 'Nope'")
    assert len(err.strip().splitlines()) == 1
