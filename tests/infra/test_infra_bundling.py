"""The Lambda code as it ships: the real pip-built layer (arm64, Python 3.13) and the app run as the CDK CLI runs it.

The first run fills ``.bundle-cache/`` with pip (about 10 s through the package mirror); later runs reuse it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from infra.bundling import (
    CACHE_DIR,
    FUNCTIONS_DIR,
    LAYER_MOUNT,
    PACKAGE_DIR,
    PYPROJECT,
    FunctionBundler,
    LayerBundler,
    bytecode_interpreter,
    distribution_name,
    runtime_requirements,
)

ROOT = Path(__file__).resolve().parents[2]
EM_AARCH64 = 183  # ELF e_machine
NEVER_IN_A_BUNDLE = {"duckdb", "pyarrow", "iptocc", "boto3", "botocore"}


def _pyproject() -> dict:
    return tomllib.loads(PYPROJECT.read_text())


def _dist_infos(site: Path) -> dict[str, Path]:
    return {distribution_name(p.name.split("-")[0]): p for p in site.glob("*.dist-info")}


def _version(dist_info: Path) -> str:
    return dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[1]


def _wheel_tags(dist_info: Path) -> list[str]:
    return [line.split(":", 1)[1].strip() for line in (dist_info / "WHEEL").read_text().splitlines() if line.startswith("Tag:")]


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return int.from_bytes(header[18:20], "little")


def _package_files(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


# The dependency list


def test_runtime_requirements_are_the_pinned_dependencies_minus_what_lambda_provides():
    project = _pyproject()["project"]
    requirements = runtime_requirements()
    names = {distribution_name(r) for r in requirements}
    assert {distribution_name(d) for d in project["dependencies"]} - names == {"boto3"}
    assert all("==" in requirement for requirement in requirements)
    local_extra = {distribution_name(d) for d in project["optional-dependencies"]["local"]}
    assert local_extra and not local_extra & names


def test_every_runtime_dependency_has_a_wheel_for_x86_64_python311(tmp_path):
    """Local mode installs the same pins on x86_64 / 3.11: resolve them from wheels only, without installing."""
    report = tmp_path / "report.json"
    command = [
        sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--disable-pip-version-check",
        "--only-binary=:all:", "--implementation", "cp", "--python-version", "3.11",
        "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64",
        "--target", str(tmp_path / "target"), "--report", str(report), *_pyproject()["project"]["dependencies"],
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    wheels = [item["download_info"]["url"].rsplit("/", 1)[-1] for item in json.loads(report.read_text())["install"]]
    for wheel in wheels:
        tags = wheel.removesuffix(".whl").split("-")[-3:]
        assert tags[2] == "any" or tags[2].endswith("x86_64"), wheel
        assert tags[0].startswith(("py3", "py2.py3", "cp311", "cp3")) and "cp312" not in tags[0], wheel


# The real layer


@pytest.fixture(scope="module")
def layer(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("layer")
    assert LayerBundler(runtime_requirements()).try_bundle(str(output), None) is True
    return output / "python"


def test_layer_holds_every_pinned_dependency_at_its_version(layer):
    installed = _dist_infos(layer)
    for requirement in runtime_requirements():
        name, version = requirement.split("==")
        dist_info = installed[distribution_name(name)]
        assert _version(dist_info) == version, requirement


def test_layer_wheels_are_for_python313_on_arm64_only(layer):
    for dist_info in _dist_infos(layer).values():
        for tag in _wheel_tags(dist_info):
            python, abi, platform = tag.split("-")
            if platform == "any":
                assert abi == "none", (dist_info.name, tag)
            else:
                assert platform.endswith("aarch64"), (dist_info.name, tag)
                assert python == "cp313" or abi == "abi3", (dist_info.name, tag)
    libraries = list(layer.rglob("*.so"))
    assert libraries, "expected compiled extensions (pydantic-core, google-re2)"
    for library in libraries:
        assert _elf_machine(library) == EM_AARCH64, library
        assert "x86_64" not in library.name, library
        assert "cpython-313-aarch64" in library.name or ".abi3." in library.name, library


def test_layer_contains_neither_local_only_packages_nor_what_lambda_provides(layer):
    top_level = {distribution_name(p.name) for p in layer.iterdir()}
    assert not top_level & NEVER_IN_A_BUNDLE
    assert not {distribution_name(name) for name in _dist_infos(layer)} & NEVER_IN_A_BUNDLE
    assert not (layer / "bin").exists()


def test_layer_carries_the_clickport_package_as_in_the_repository(layer):
    assert _package_files(layer / "clickport") == _package_files(PACKAGE_DIR)


# Bytecode. Python's py_compile docs, PycInvalidationMode: TIMESTAMP "The .pyc file includes the timestamp
# and size of the source file, which Python will compare against the metadata of the source file at runtime
# to determine if the .pyc file needs to be regenerated"; UNCHECKED_HASH "Like CHECKED_HASH, the .pyc file
# includes a hash of the source file content. However, Python will at runtime assume the .pyc file is up to
# date and not validate the .pyc against the source file at all." PEP 552 lays out the header: magic (4
# bytes), flags (4: bit 0 hash-based, bit 1 check_source), then the 8-byte source hash.


def _python313_facts(sources: list[Path]) -> tuple[bytes, list[bytes]]:
    """Python 3.13's magic number and its ``importlib.util.source_hash`` of each file (the key is its magic)."""
    script = (
        "import importlib.util, json, sys\n"
        "paths = json.load(sys.stdin)\n"
        "print(json.dumps([importlib.util.MAGIC_NUMBER.hex()] + "
        "[importlib.util.source_hash(open(p, 'rb').read()).hex() for p in paths]))"
    )
    result = subprocess.run([bytecode_interpreter(), "-I", "-c", script], input=json.dumps([str(p) for p in sources]),
                            capture_output=True, text=True, check=True)
    magic, *hashes = json.loads(result.stdout)
    return bytes.fromhex(magic), [bytes.fromhex(h) for h in hashes]


def _pyc_of(source: Path) -> Path:
    return source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"


def test_every_module_of_the_layer_ships_unchecked_hash_bytecode_for_python313(layer):
    sources = sorted(layer.rglob("*.py"))
    assert len(sources) > 500  # the dependencies and the package
    missing = [str(source.relative_to(layer)) for source in sources if not _pyc_of(source).is_file()]
    assert not missing, missing[:10]
    magic, _ = _python313_facts([])
    for source in sources:
        header = _pyc_of(source).read_bytes()[:16]
        assert header[:4] == magic, source
        assert int.from_bytes(header[4:8], "little") == 0b01, source  # hash-based, source never checked


def test_the_packages_bytecode_is_of_its_sources_and_names_the_lambda_path(layer):
    sources = sorted((layer / "clickport").rglob("*.py"))
    _, hashes = _python313_facts(sources)
    for source, source_hash in zip(sources, hashes):
        data = _pyc_of(source).read_bytes()
        assert data[8:16] == source_hash, source
        # Tracebacks on Lambda name /opt/python/..., not the build machine's directory.
        assert f"{LAYER_MOUNT}/{source.relative_to(layer).as_posix()}".encode() in data, source
        assert str(layer).encode() not in data, source


def test_function_bundle_ships_the_handlers_bytecode(tmp_path):
    FunctionBundler(FUNCTIONS_DIR / "event").try_bundle(str(tmp_path))
    assert _package_files(tmp_path) == _package_files(FUNCTIONS_DIR / "event")
    pyc = _pyc_of(tmp_path / "handler.py").read_bytes()
    assert int.from_bytes(pyc[4:8], "little") == 0b01 and b"/var/task/handler.py" in pyc
    FunctionBundler(FUNCTIONS_DIR / "event", bytecode=False).try_bundle(str(tmp_path / "plain"))
    assert not list((tmp_path / "plain").rglob("*.pyc"))


_IMPORT_COUNTING_COMPILES = (
    "import importlib.machinery, sys\n"
    "sys.dont_write_bytecode = True\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "compiled = []\n"
    "original = importlib.machinery.SourceFileLoader.source_to_code\n"
    "def counting(self, data, path, *a, **k):\n"
    "    compiled.append(path)\n"
    "    return original(self, data, path, *a, **k)\n"
    "importlib.machinery.SourceFileLoader.source_to_code = counting\n"
    "import probe_package.module\n"
    "print(len(compiled))\n"
)


@pytest.mark.parametrize(("mode", "recompiled"), [("timestamp", 2), ("unchecked-hash", 0)])
def test_only_hash_based_bytecode_survives_the_cdk_zips_reset_dates(tmp_path, mode, recompiled):
    """cdk-assets zips every file with ``date: new Date('1980-01-01T00:00:00.000Z'), // reset dates to get the
    same hash for the same content``: the source's mtime then differs from the one a timestamp .pyc recorded."""
    from infra.cold_start import as_deployed

    package = tmp_path / "code" / "probe_package"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "module.py").write_text("VALUE = 1\n")
    interpreter = bytecode_interpreter()
    subprocess.run([interpreter, "-m", "compileall", "-q", "--invalidation-mode", mode, str(package)], check=True)
    as_deployed(tmp_path / "code")
    result = subprocess.run([interpreter, "-I", "-c", _IMPORT_COUNTING_COMPILES, str(tmp_path / "code")],
                            capture_output=True, text=True, check=True)
    assert int(result.stdout) == recompiled


def test_cold_start_from_the_built_bundle_compiles_nothing_and_answers(tmp_path):
    """The event function's bundle as the stack builds it (for this machine's platform), dated and read-only
    as Lambda mounts it: handler import and a first CloudFront request compile no module of the bundle; the
    same bundle without its bytecode compiles every module it imports, at every cold start."""
    from infra.cold_start import measure

    try:
        result = measure(tmp_path, runs=1)
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(tmp_path)], check=False)
    [with_pyc], [without_pyc] = result.with_pyc, result.without_pyc
    assert (with_pyc.status, with_pyc.country) == (200, "DE")
    assert (without_pyc.status, without_pyc.country) == (200, "DE")
    assert with_pyc.compiled == ()
    compiled = {Path(path).name for path in without_pyc.compiled}
    assert {"handler.py", "pipeline.py", "client.py"} <= compiled and len(without_pyc.compiled) > 100
    print(f"\ncold start x86 (1 run): with .pyc {with_pyc.total_s * 1000:.0f} ms, "
          f"without {without_pyc.total_s * 1000:.0f} ms")


def test_layer_dependencies_are_built_once_per_dependency_list(layer, monkeypatch):
    bundler = LayerBundler(runtime_requirements())
    built = bundler.dependencies_dir()
    assert built.parent == CACHE_DIR and built.is_dir()
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("pip ran although the cache was full"))
    assert bundler.dependencies_dir() == built
    other = LayerBundler((*runtime_requirements(), "six==1.17.0"))
    assert other.dependencies_key != bundler.dependencies_key


def test_layer_asset_hash_follows_package_sources_and_mode(tmp_path):
    package = tmp_path / "clickport"
    package.mkdir()
    (package / "__init__.py").write_text('"""x"""\n')
    requirements = runtime_requirements()
    first = LayerBundler(requirements, package_dir=package).asset_hash()
    assert LayerBundler(requirements, package_dir=package).asset_hash() == first
    assert LayerBundler(requirements, package_dir=package, install_dependencies=False).asset_hash() != first
    assert LayerBundler(requirements, package_dir=package, bytecode=False).asset_hash() != first
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert LayerBundler(requirements, package_dir=package).asset_hash() == first
    (package / "__init__.py").write_text('"""y"""\n')
    assert LayerBundler(requirements, package_dir=package).asset_hash() != first


def test_a_failed_pip_run_says_so_and_leaves_no_cache_entry(tmp_path):
    bundler = LayerBundler(("this is not a requirement!",), cache_dir=tmp_path)
    with pytest.raises(RuntimeError, match="arm64 / Python 3.13"):
        bundler.dependencies_dir()
    assert list(tmp_path.iterdir()) == []


# The app as `npx aws-cdk synth` runs it


def test_app_script_synthesizes_with_the_real_layer_as_the_cdk_cli_runs_it(tmp_path, tracker_script):
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context["clickport:trackerScript"] = str(tracker_script)
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(tmp_path)}
    command = json.loads((ROOT / "cdk.json").read_text())["app"].split()
    assert command[1:] == ["infra/app.py"]
    result = subprocess.run([sys.executable, *command[1:]], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]

    assets = json.loads((tmp_path / "Clickport.assets.json").read_text())["files"]
    staged = {tmp_path / asset["source"]["path"] for asset in assets.values()}
    (layer,) = [path / "python" for path in staged if (path / "python" / "clickport").is_dir()]
    assert any(_elf_machine(so) == EM_AARCH64 for so in layer.rglob("*.so"))
    assert not {distribution_name(p.name) for p in layer.iterdir()} & NEVER_IN_A_BUNDLE
    assert (layer / "clickport" / "__pycache__" / "runtime.cpython-313.pyc").is_file()
    for name in ("event", "query", "realtime", "goals"):
        expected = _package_files(FUNCTIONS_DIR / name)
        assert expected, f"functions/{name} is empty"
        source = (FUNCTIONS_DIR / name / "handler.py").read_bytes()
        [function] = [path for path in staged
                      if _package_files(path) == expected and (path / "handler.py").read_bytes() == source]
        assert (function / "__pycache__" / "handler.cpython-313.pyc").is_file(), name
