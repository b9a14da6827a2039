"""Realistic, seeded monitoring history for the dashboard's tests, its benchmark, screenshots
and the demo: :func:`seed_database` writes it, :func:`seed_reference` stores a reference.

``database.py`` writes models, traffic, batches and references; ``reports.py`` the drift and
performance reports; ``ops.py`` alerts, job runs and audit rows; ``loop_plan.py`` plans and
``loop.py`` writes the lifecycle half (retrain runs, shadow evaluations, promotions, registry
versions); ``models.py`` the synthetic models. Everything is deterministic for a given
``seed`` and ``now``.
"""

from __future__ import annotations

from lifecycle.seed.database import SeedSummary, seed_database, seed_reference
from lifecycle.seed.loop_plan import DEFAULT_LOOP, LoopSize
from lifecycle.seed.models import DEFAULT_MODELS, SeedModel

__all__ = ["DEFAULT_LOOP", "DEFAULT_MODELS", "LoopSize", "SeedModel", "SeedSummary",
           "seed_database", "seed_reference"]
