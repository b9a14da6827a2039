"""In-memory fakes and helpers for unit tests of logic (shipped with the library so users
can test their own integration code without a database or an MLflow server)."""

from __future__ import annotations
