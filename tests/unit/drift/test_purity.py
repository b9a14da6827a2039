"""The pure core imports only the standard library, numpy and scipy."""

from __future__ import annotations

import subprocess
import sys


def test_core_imports_no_io_or_pandas() -> None:
    code = (
        "import sys, lifecycle.drift, lifecycle.drift.statistics, lifecycle.drift.decision;"
        "bad = [m for m in ('pandas', 'sqlalchemy', 'mlflow', 'apscheduler', 'streamlit',"
        " 'pyarrow') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
