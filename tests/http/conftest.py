"""Tests directly under tests/http share the cast and client of the API tests
(tests/http/api/conftest.py), loaded by file path as tests/http/web/conftest.py does, and
the app's route table (route_table.py, imported as ``qunzhu_tests_routes``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def _http_fixtures() -> ModuleType:
    name = "qunzhu_tests_http"  # tests/http/api/conftest.py registers itself under this name
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).resolve().parent / "api" / "conftest.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _route_table() -> ModuleType:
    name = "qunzhu_tests_routes"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).resolve().parent / "route_table.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_route_table()
_fixtures = _http_fixtures()
personas = _fixtures.personas
app_factory = _fixtures.app_factory
client = _fixtures.client
