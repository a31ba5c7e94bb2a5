"""Builds Lambda code on this machine, without Docker: the common layer with pip for arm64 / Python 3.13.

The layer is ``python/`` = the runtime dependencies of ``pyproject.toml`` (minus what Lambda provides)
installed from wheels for the Lambda platform, plus the ``clickport`` package copied from
``layers/common/python``. The pip step is cached under ``.bundle-cache/`` keyed by the dependency
list, so only a change of dependencies runs pip again; the package is copied on every build.

Both the layer and each function ship Python 3.13 bytecode, hash-based and unchecked. Without it every
cold start compiles every imported module again: the layer is extracted to ``/opt``, which is read-only,
so Python cannot keep what it compiled; and timestamp-based ``.pyc`` files would not help, because the
CDK zips every asset with one fixed date (cdk-assets, ``zipDirectory``: ``date: new
Date('1980-01-01T00:00:00.000Z'), // reset dates to get the same hash for the same content``), so the
source's mtime no longer matches the one recorded in the ``.pyc`` and Python recompiles. Python's
``py_compile`` docs on ``PycInvalidationMode.UNCHECKED_HASH``: "Like CHECKED_HASH, the .pyc file
includes a hash of the source file content. However, Python will at runtime assume the .pyc file is up
to date and not validate the .pyc against the source file at all." An asset never changes after it is
built, so unchecked is safe here, and it does not even read the source at import.
"""

from __future__ import annotations

import glob
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

# Where Lambda puts the code: tracebacks name these paths (compileall -p), not the build machine's.
LAYER_MOUNT = "/opt/python"
FUNCTION_MOUNT = "/var/task"
BYTECODE_MODE = "unchecked-hash"
BYTECODE_PYTHON_ENV = "CLICKPORT_BYTECODE_PYTHON"

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


def pip_install_command(
    requirements: tuple[str, ...], target: Path, platforms: tuple[str, ...] = LAMBDA_PLATFORMS
) -> list[str]:
    platform_args = [arg for platform in platforms for arg in ("--platform", platform)]
    return [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-compile",
        "--only-binary=:all:", "--implementation", "cp",
        "--python-version", LAMBDA_PYTHON_VERSION, *platform_args,
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


def _python_version(interpreter: str) -> str | None:
    try:
        result = subprocess.run(
            [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=60, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def bytecode_interpreter() -> str:
    """A CPython of exactly the Lambda runtime's version: bytecode is only valid for one minor version.

    ``$CLICKPORT_BYTECODE_PYTHON`` if set, else ``python3.13`` on the PATH, else a pyenv 3.13.
    """
    wanted = f"python{LAMBDA_PYTHON_VERSION}"
    override = os.environ.get(BYTECODE_PYTHON_ENV)
    candidates = [override] if override else []
    candidates += [shutil.which(wanted) or ""]
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates += sorted(glob.glob(os.path.join(pyenv_root, "versions", f"{LAMBDA_PYTHON_VERSION}*", "bin", wanted)))
    for candidate in filter(None, candidates):
        if _python_version(candidate) == LAMBDA_PYTHON_VERSION:
            return candidate
    raise RuntimeError(
        f"the Lambda code ships Python {LAMBDA_PYTHON_VERSION} bytecode, so building it needs a Python "
        f"{LAMBDA_PYTHON_VERSION} interpreter: install one ({wanted} on the PATH, or set "
        f"{BYTECODE_PYTHON_ENV}=/path/to/{wanted}), or deploy without bytecode (-c clickport:bytecode=false; "
        "cold starts then compile every module)"
    )


def compile_bytecode(root: Path, mount: str, interpreter: str | None = None) -> None:
    """Write ``__pycache__/*.cpython-313.pyc`` next to every ``.py`` under ``root`` (unchecked-hash), with
    ``mount`` (where Lambda puts ``root``) as the source path recorded in them."""
    command = [
        interpreter or bytecode_interpreter(), "-m", "compileall", "-q", "-j", "0",
        "--invalidation-mode", BYTECODE_MODE, "-s", str(root), "-p", mount, str(root),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"compiling {root} to Python {LAMBDA_PYTHON_VERSION} bytecode failed:\n"
                           f"{result.stdout}{result.stderr}")


def _bytecode_key(bytecode: bool) -> str:
    return f"cpython-{LAMBDA_PYTHON_VERSION}-{BYTECODE_MODE}" if bytecode else "source-only"


@jsii.implements(ILocalBundling)
class LayerBundler:
    """Local bundling of the common layer; ``install_dependencies=False`` gives a package-only stub."""

    def __init__(
        self,
        requirements: tuple[str, ...],
        *,
        install_dependencies: bool = True,
        bytecode: bool = True,
        package_dir: Path = PACKAGE_DIR,
        cache_dir: Path = CACHE_DIR,
        platforms: tuple[str, ...] = LAMBDA_PLATFORMS,
    ) -> None:
        self.requirements = requirements
        self.install_dependencies = install_dependencies
        self.bytecode = bytecode
        self.package_dir = package_dir
        self.cache_dir = cache_dir
        self.platforms = platforms  # another platform only to measure the same bundle on this machine

    @property
    def dependencies_key(self) -> str:
        spec = {"python": LAMBDA_PYTHON_VERSION, "platforms": self.platforms, "requirements": self.requirements}
        return _digest(json.dumps(spec, sort_keys=True).encode())[:20]

    def asset_hash(self) -> str:
        """Identifies the bundle's content: the dependency list (or stub), the bytecode and the package sources."""
        mode = self.dependencies_key if self.install_dependencies else "stub"
        return _digest(mode.encode(), _bytecode_key(self.bytecode).encode(), _package_digest(self.package_dir).encode())

    def try_bundle(self, output_dir: str, options: object = None) -> bool:
        target = self.layer_with_dependencies(output_dir)
        package = target / "clickport"
        shutil.copytree(self.package_dir, package, ignore=_IGNORED, dirs_exist_ok=True)
        if self.bytecode:
            compile_bytecode(package, f"{LAYER_MOUNT}/clickport")
        return True

    def layer_with_dependencies(self, output_dir: str) -> Path:
        """The layer's ``python/`` folder in ``output_dir``, holding the dependencies when they are installed."""
        target = Path(output_dir) / "python"
        target.mkdir(parents=True, exist_ok=True)
        if self.install_dependencies:
            dependencies = self.compiled_dependencies_dir() if self.bytecode else self.dependencies_dir()
            shutil.copytree(dependencies, target, copy_function=_link_or_copy, dirs_exist_ok=True)
        return target

    def dependencies_dir(self) -> Path:
        """The pip-installed dependencies for the Lambda platform, built once per dependency list."""
        final = self.cache_dir / f"layer-deps-{self.dependencies_key}"
        if final.is_dir():
            return final

        def install(building: Path) -> None:
            command = pip_install_command(self.requirements, building, self.platforms)
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                target = "arm64" if self.platforms == LAMBDA_PLATFORMS else "/".join(self.platforms)
                raise RuntimeError(
                    f"pip could not install the layer's dependencies as {target} / Python "
                    f"{LAMBDA_PYTHON_VERSION} wheels:\n{result.stdout}{result.stderr}"
                )
            shutil.rmtree(building / "bin", ignore_errors=True)

        return self._cached(final, install)

    def compiled_dependencies_dir(self) -> Path:
        """The dependencies with their bytecode (hard links to the pip output plus ``__pycache__``), cached too."""
        final = self.cache_dir / f"layer-deps-{self.dependencies_key}-{_bytecode_key(True)}"
        if final.is_dir():
            return final
        source = self.dependencies_dir()

        def build(building: Path) -> None:
            shutil.copytree(source, building, copy_function=_link_or_copy, dirs_exist_ok=True)
            compile_bytecode(building, LAYER_MOUNT)

        return self._cached(final, build)

    def _cached(self, final: Path, build) -> Path:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=".building-", dir=self.cache_dir))
        try:
            build(building)
            building.rename(final)  # atomic: a cache directory is always complete
        except OSError:
            if not final.is_dir():
                raise
        finally:
            shutil.rmtree(building, ignore_errors=True)
        return final


@jsii.implements(ILocalBundling)
class FunctionBundler:
    """Local bundling of one function: its directory (the handler) and, with ``bytecode``, its ``.pyc``."""

    def __init__(self, source_dir: Path, *, bytecode: bool = True) -> None:
        self.source_dir = source_dir
        self.bytecode = bytecode

    def asset_hash(self) -> str:
        return _digest(_bytecode_key(self.bytecode).encode(), _package_digest(self.source_dir).encode())

    def try_bundle(self, output_dir: str, options: object = None) -> bool:
        target = Path(output_dir)
        shutil.copytree(self.source_dir, target, ignore=_IGNORED, dirs_exist_ok=True)
        if self.bytecode:
            compile_bytecode(target, FUNCTION_MOUNT)
        return True


def layer_code(bundler: LayerBundler) -> lambda_.Code:
    """The layer asset, identified by the bundler's content hash (so an unchanged layer is not rebuilt)."""
    return lambda_.Code.from_asset(
        str(LAYER_DIR),
        asset_hash=bundler.asset_hash(),
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(image=DockerImage.from_registry(_UNUSED_DOCKER_IMAGE), local=bundler),
    )


def function_code(name: str, *, bytecode: bool = True) -> lambda_.Code:
    """A function's asset: its directory ``functions/<name>/`` (the handler; the layer holds the rest)."""
    bundler = FunctionBundler(FUNCTIONS_DIR / name, bytecode=bytecode)
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR / name),
        asset_hash=bundler.asset_hash(),
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(image=DockerImage.from_registry(_UNUSED_DOCKER_IMAGE), local=bundler),
    )
