"""The README's configuration examples are valid settings: every ```toml block loads with
``load_settings`` and gives a schedulable plan, so a new user copying one gets no error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lifecycle.config import load_settings
from lifecycle.jobs.plan import build_plan

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = re.findall(r"```toml\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"),
                    re.S)


def test_the_readme_has_toml_examples() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_each_toml_example_loads(index: int, tmp_path: Path) -> None:
    path = tmp_path / "lifecycle.toml"
    # the webhook example elides its path with an ellipsis: any https URL stands in for it
    path.write_text(BLOCKS[index].replace("…", "T000/B000/XXXX"), encoding="utf-8")
    settings = load_settings(path, env={}, cwd=tmp_path)
    build_plan(settings, check_imports=False)
