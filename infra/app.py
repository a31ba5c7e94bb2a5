#!/usr/bin/env python3
"""The CDK app: ``npx aws-cdk deploy`` (cdk.json) runs ``python3 infra/app.py`` from the repository root."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parent
# Run as a script, Python puts infra/ first on the path; its module names must not shadow anything.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
for _path in (_ROOT / "layers" / "common" / "python", _ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Validations  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.config import DeployConfig  # noqa: E402
from infra.stack import ClickportStack  # noqa: E402


def build_app(context: dict[str, Any] | None = None, outdir: str | None = None) -> tuple[App, ClickportStack]:
    """The app with its one stack and cdk-nag's AwsSolutions checks (which fail synthesis on any finding)."""
    app = App(context=context, outdir=outdir)
    config = DeployConfig.from_context(app.node)
    stack = ClickportStack(app, config.stack_name, config=config)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


if __name__ == "__main__":
    build_app()[0].synth()
