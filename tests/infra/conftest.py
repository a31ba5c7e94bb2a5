"""One synthesis of the CDK app for all infra tests, with the context the CDK CLI would pass from cdk.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Non-default values, so the tests can see each context key reach the template.
TEST_CONTEXT = {
    "clickport:stage": "test",
    "clickport:logRetentionDays": 14,
    "clickport:firehoseBufferSeconds": 120,
    "clickport:throttleRateLimit": 123,
    "clickport:throttleBurstLimit": 234,
    "clickport:eventThrottleRateLimit": 4321,
    "clickport:eventThrottleBurstLimit": 2345,
    "clickport:deliveryStreams": 3,
    "clickport:liveWarmWritesPerSecond": 20000,
    "clickport:athenaBytesScannedCutoff": 5 * 1024**3,
    "clickport:errorOutputExpirationDays": 21,
    "clickport:athenaResultsExpirationDays": 3,
    "clickport:alarmEmail": "ops@example.com",
    # Template tests need the layer's shape, not 40 MB of wheels: tests/infra/test_infra_bundling.py
    # builds the real layer.
    "clickport:bundling": "stub",
}
TRACKER_SCRIPT = "/* test tracker */(function(){var cp=1})();\n"


def cdk_json_context() -> dict[str, Any]:
    return json.loads((ROOT / "cdk.json").read_text())["context"]


@dataclass
class Synthesis:
    app: Any
    stack: Any
    template: dict[str, Any]
    outdir: Path
    context: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {key: value for key, value in self.resources.items() if value["Type"] == resource_type}

    def logical_id(self, construct: Any) -> str:
        """Logical id of an L1 resource, or of an L2 construct's default child."""
        cfn = getattr(construct, "node").default_child or construct
        return self.stack.resolve(self.stack.get_logical_id(cfn))

    def resolve(self, value: Any) -> Any:
        return self.stack.resolve(value)


@pytest.fixture(scope="session")
def tracker_script(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tracker") / "cp.min.js"
    path.write_text(TRACKER_SCRIPT)
    return path


@pytest.fixture(scope="session")
def synth(tmp_path_factory, tracker_script) -> Synthesis:
    from infra.app import build_app

    context = {**cdk_json_context(), **TEST_CONTEXT, "clickport:trackerScript": str(tracker_script)}
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build_app(context=context, outdir=str(outdir))
    assembly = app.synth()  # raises if cdk-nag reports an unacknowledged finding
    template = assembly.get_stack_by_name(stack.stack_name).template
    return Synthesis(app=app, stack=stack, template=template, outdir=outdir, context=context)
