"""The seeded examples in the pure core's docstrings run, and stay true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ["lifecycle.drift", "lifecycle.detectors", "lifecycle.performance",
            "lifecycle.evaluation"]


def _modules() -> list[str]:
    names: list[str] = []
    for package in PACKAGES:
        pkg = importlib.import_module(package)
        names.append(package)
        names += [info.name for info in pkgutil.walk_packages(pkg.__path__, f"{package}.")]
    return names


def test_pure_core_has_examples() -> None:
    total = sum(
        len([t for t in doctest.DocTestFinder().find(importlib.import_module(m)) if t.examples])
        for m in _modules()
    )
    assert total >= 4


@pytest.mark.parametrize("module", _modules())
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
