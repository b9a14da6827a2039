"""Fixtures for the trainer tests: user modules written to a temporary project folder."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str],
                                                                                   None]]:
    """``project(module_name, source)`` writes a module into a fresh project folder that is
    the working directory; ``sys.path`` is restored and the project's modules forgotten after."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".")])
    before = set(sys.modules)

    def write(name: str, source: str) -> None:
        path = root.joinpath(*name.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            if str(parent) != ".":
                (root / parent / "__init__.py").touch()
        path.write_text(textwrap.dedent(source))

    yield write
    for name in set(sys.modules) - before:  # the project's modules, never a library's
        if str(getattr(sys.modules[name], "__file__", "") or "").startswith(str(root)):
            del sys.modules[name]
