"""``--aws``: point the CLI at a deployed stack by reading its CloudFormation outputs."""

from __future__ import annotations

from clickport.cli.output import CliError
from clickport.settings import Settings

# Stack output name → settings field.
OUTPUTS = {
    "ConfigTableName": "config_table",
    "LiveTableName": "live_table",
    "FirehoseStreamName": "firehose_stream",
    "AthenaWorkgroupName": "athena_workgroup",
    "AthenaDatabaseName": "athena_database",
    "AthenaTableName": "athena_table",
    "Region": "region",
}


def settings_from_stack(stack_name: str, base: Settings) -> Settings:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = boto3.client("cloudformation", region_name=base.region)
        stacks = client.describe_stacks(StackName=stack_name)["Stacks"]
    except (BotoCoreError, ClientError) as error:
        raise CliError(f"cannot read stack '{stack_name}': {error}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    update = {field: outputs[name] for name, field in OUTPUTS.items() if name in outputs}
    missing = [name for name in OUTPUTS if name not in outputs]
    if missing:
        raise CliError(f"stack '{stack_name}' lacks outputs {', '.join(missing)}; is it a Clickport stack?")
    return base.model_copy(update={"backend": "aws", **update})
