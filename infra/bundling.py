"""Builds Lambda code on this machine, without Docker: the common layer with pip for arm64 / Python 3.13.

The layer is ``python/`` = the runtime dependencies of ``pyproject.toml`` (minus what Lambda provides)
installed from wheels for the Lambda platform, plus the ``clickport`` package copied from
``layers/common/python``. The pip step is cached under ``.bundle-cache/`` keyed by the dependency
list, so only a change of dependencies runs pip again; the package is copied on every build.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.config import REPO_ROOT

# The functions' runtime and architecture, and the wheels built for them: change them together.
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_13
LAMBDA_ARCHITECTURE = lambda_.Architecture.ARM_64
LAMBDA_PYTHON_VERSION = LAMBDA_RUNTIME.name.removeprefix("python")
# Both tags: with only the newer one, pip silently settles for old releases that shipped manylinux2014 wheels.
LAMBDA_PLATFORMS = ("manylinux_2_28_aarch64", "manylinux2014_aarch64")
PROVIDED_BY_LAMBDA = frozenset({"boto3", "botocore"})

LAYER_DIR = REPO_ROOT / "layers" / "common"
PACKAGE_DIR = LAYER_DIR / "python" / "clickport"
FUNCTIONS_DIR = REPO_ROOT / "functions"
CACHE_DIR = REPO_ROOT / ".bundle-cache"
PYPROJECT = REPO_ROOT / "pyproject.toml"

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
# Only used if local bundling declines, which it never does: it raises instead (no Docker here).
_UNUSED_DOCKER_IMAGE = "public.ecr.aws/sam/build-python3.13"


def distribution_name(requirement: str) -> str:
    """``"aws-lambda-powertools==3.37.0"`` → ``"aws-lambda-powertools"`` (normalised)."""
    name = re.split(r"[\s\[<>=!~;@]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_requirements(pyproject: Path = PYPROJECT) -> tuple[str, ...]:
    """``[project].dependencies`` without the packages the Lambda runtime already has."""
    with pyproject.open("rb") as handle:
        dependencies = tomllib.load(handle)["project"]["dependencies"]
    return tuple(d for d in dependencies if distribution_name(d) not in PROVIDED_BY_LAMBDA)


def pip_install_command(requirements: tuple[str, ...], target: Path) -> list[str]:
    platforms = [arg for platform in LAMBDA_PLATFORMS for arg in ("--platform", platform)]
    return [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-compile",
        "--only-binary=:all:", "--implementation", "cp",
        "--python-version", LAMBDA_PYTHON_VERSION, *platforms,
        "--target", str(target), *requirements,
    ]  # fmt: skip


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _package_digest(package_dir: Path) -> str:
    parts: list[bytes] = []
    for path in sorted(p for p in package_dir.rglob("*") if p.is_file()):
        if "__pycache__" in path.parts or path.suffix in {".pyc", ".pyo"}:
            continue
        parts += [path.relative_to(package_dir).as_posix().encode(), path.read_bytes()]
    return _digest(*parts)


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


@jsii.implements(ILocalBundling)
class LayerBundler:
    """Local bundling of the common layer; ``install_dependencies=False`` gives a package-only stub."""

    def __init__(
        self,
        requirements: tuple[str, ...],
        *,
        install_dependencies: bool = True,
        package_dir: Path = PACKAGE_DIR,
        cache_dir: Path = CACHE_DIR,
    ) -> None:
        self.requirements = requirements
        self.install_dependencies = install_dependencies
        self.package_dir = package_dir
        self.cache_dir = cache_dir

    @property
    def dependencies_key(self) -> str:
        spec = {"python": LAMBDA_PYTHON_VERSION, "platforms": LAMBDA_PLATFORMS, "requirements": self.requirements}
        return _digest(json.dumps(spec, sort_keys=True).encode())[:20]

    def asset_hash(self) -> str:
        """Identifies the bundle's content: the dependency list (or stub) and the package sources."""
        mode = self.dependencies_key if self.install_dependencies else "stub"
        return _digest(mode.encode(), _package_digest(self.package_dir).encode())

    def try_bundle(self, output_dir: str, options: object = None) -> bool:
        target = Path(output_dir) / "python"
        target.mkdir(parents=True, exist_ok=True)
        if self.install_dependencies:
            shutil.copytree(self.dependencies_dir(), target, copy_function=_link_or_copy, dirs_exist_ok=True)
        shutil.copytree(self.package_dir, target / "clickport", ignore=_IGNORED, dirs_exist_ok=True)
        return True

    def dependencies_dir(self) -> Path:
        """The pip-installed dependencies for the Lambda platform, built once per dependency list."""
        final = self.cache_dir / f"layer-deps-{self.dependencies_key}"
        if final.is_dir():
            return final
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=".building-", dir=self.cache_dir))
        try:
            result = subprocess.run(
                pip_install_command(self.requirements, building), capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                raise RuntimeError(
                    "pip could not install the layer's dependencies as arm64 / Python "
                    f"{LAMBDA_PYTHON_VERSION} wheels:\n{result.stdout}{result.stderr}"
                )
            shutil.rmtree(building / "bin", ignore_errors=True)
            building.rename(final)  # atomic: a cache directory is always complete
        except OSError:
            if not final.is_dir():
                raise
        finally:
            shutil.rmtree(building, ignore_errors=True)
        return final


def layer_code(bundler: LayerBundler) -> lambda_.Code:
    """The layer asset, identified by the bundler's content hash (so an unchanged layer is not rebuilt)."""
    return lambda_.Code.from_asset(
        str(LAYER_DIR),
        asset_hash=bundler.asset_hash(),
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(image=DockerImage.from_registry(_UNUSED_DOCKER_IMAGE), local=bundler),
    )


def function_code(name: str) -> lambda_.Code:
    """A function's asset: its directory ``functions/<name>/`` (the handler; the layer holds the rest)."""
    return lambda_.Code.from_asset(str(FUNCTIONS_DIR / name), exclude=["__pycache__", "*.pyc", "*.pyo"])
