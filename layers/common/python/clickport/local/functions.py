"""Loads the four functions' ``lambda_handler``s from ``functions/<name>/handler.py``."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import clickport

FUNCTION_NAMES = ("event", "query", "realtime", "goals")
_modules: dict[str, ModuleType] = {}
_lock = threading.Lock()


def repository_root() -> Path:
    """The checkout holding ``functions/`` (the package lives in ``layers/common/python/clickport``)."""
    override = os.environ.get("CLICKPORT_FUNCTIONS_DIR")
    if override:
        return Path(override).resolve().parent
    return Path(clickport.__file__).resolve().parents[4]


def load_function(name: str) -> ModuleType:
    """Import ``functions/<name>/handler.py`` once, under a unique module name."""
    with _lock:
        if name not in _modules:
            path = repository_root() / "functions" / name / "handler.py"
            module_name = f"clickport_function_{name}"
            spec = importlib.util.spec_from_file_location(module_name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
            _modules[name] = module
        return _modules[name]


def handler_for(name: str) -> Callable[[dict, Any], dict]:
    return load_function(name).lambda_handler


@dataclass
class LocalLambdaContext:
    """The parts of a Lambda context the handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
