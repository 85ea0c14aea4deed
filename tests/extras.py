"""Optional extras in tests: skipped where the extra is not installed, never skipped in CI."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

INSTALL = {"mlflow": "make install-mlflow", "pyspark": "make install-spark"}
FLAGS = {"pyspark": "SPARK"}  # KAIZEN_REQUIRE_<flag>; by default the module's name


def require(module: str) -> ModuleType:
    """Import `module`, or skip saying how to install it; with KAIZEN_REQUIRE_<MODULE>=1 (set
    by .ci/run) a missing module fails instead, so that CI never skips these tests."""
    try:
        found = importlib.import_module(module)
    except ImportError:
        flag = f"KAIZEN_REQUIRE_{FLAGS.get(module, module.upper())}"
        reason = f"{module} is not installed (`{INSTALL.get(module, 'pip install ' + module)}`)"
        if os.environ.get(flag) == "1":
            pytest.fail(f"{reason} but {flag}=1", pytrace=False)
        pytest.skip(reason, allow_module_level=True)
    return found
