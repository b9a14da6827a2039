"""Packaging: the repository's ``dashboard/`` folder installs as ``lifecycle.dashboard`` and
the explicit package list in pyproject.toml names every package folder (setuptools cannot
discover a folder under another package name, so a missing line would silently leave a
package out of the wheel)."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _config() -> dict[str, object]:
    with (REPO / "pyproject.toml").open("rb") as f:
        return dict(tomllib.load(f)["tool"]["setuptools"])


def _package_folders(root: Path, name: str) -> set[str]:
    return {name + "".join(f".{p}" for p in init.parent.relative_to(root).parts)
            for init in root.rglob("__init__.py") if "__pycache__" not in init.parts}


def test_every_package_folder_is_listed() -> None:
    listed = set(_config()["packages"])  # type: ignore[call-overload]
    found = (_package_folders(REPO / "lifecycle", "lifecycle")
             | _package_folders(REPO / "dashboard", "lifecycle.dashboard"))
    assert listed == found, (f"add to [tool.setuptools] packages: {sorted(found - listed)}; "
                             f"remove: {sorted(listed - found)}")


def test_dashboard_installs_under_lifecycle() -> None:
    config = _config()
    assert config["package-dir"] == {"lifecycle.dashboard": "dashboard"}
    assert not any(str(p).split(".")[0] == "dashboard" for p in config["packages"])  # type: ignore[attr-defined]
    import lifecycle.dashboard

    assert Path(lifecycle.dashboard.__file__).resolve() == REPO / "dashboard" / "__init__.py"
