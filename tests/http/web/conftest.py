"""The dashboard tests share the cast and client of the API tests (tests/http/api/conftest.py).

It is loaded by file path rather than imported as a module so that it works whether or
not the test folders are packages, and under any pytest import mode.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def _http_fixtures() -> ModuleType:
    name = "qunzhu_tests_http"  # tests/http/api/conftest.py registers itself under this name
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).resolve().parents[1] / "api" / "conftest.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _load(name: str) -> ModuleType:
    """A helper module of this folder, importable by ``name`` from the test modules."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parent / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_fixtures = _http_fixtures()
personas = _fixtures.personas
app_factory = _fixtures.app_factory
client = _fixtures.client


# The seeded community lives in web_seed.py so tests can import its constants.
acme = _load("web_seed").acme
_load("text_scan")  # what an operator reads on a page (test_zh_cn_scan.py)
