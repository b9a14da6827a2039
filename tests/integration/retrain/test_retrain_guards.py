"""Guards of the retrain that real MLflow cannot be made to fail on cue: an alias move that
fails after registering, a process that died after registering, a model without a trainer,
the scheduler refusing a bad trainer at start. The in-memory registry stands in for MLflow
(the real store's behaviour is covered in test_retrain_run.py); the database is real."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import lifecycle
from lifecycle.errors import ConfigError, RegistryError, TrainerError
from lifecycle.jobs.queue import RETRAIN, claim_next, enqueue, finish
from lifecycle.jobs.requests import process_pending
from lifecycle.jobs.retrain_trigger import validate_retraining
from lifecycle.jobs.runner import RunContext
from lifecycle.jobs.scheduler import run_scheduler
from lifecycle.registry.base import VersionInfo
from lifecycle.states import CHALLENGER, FAILED, LOST, RUNNING
from lifecycle.storage.retrain_repo import Lineage, list_runs, open_run, update_run
from lifecycle.testing import InMemoryRegistry
from tests.integration.retrain.conftest import MODEL, Served

pytestmark = pytest.mark.slow


class AliasFails(InMemoryRegistry):
    """Registers fine; the alias move fails (the store went away mid-way)."""

    def set_alias(self, name: str, alias: str, version: str) -> None:
        if alias == CHALLENGER:
            raise RegistryError("simulated: the tracking server stopped answering")
        super().set_alias(name, alias, version)


def test_alias_failure_deletes_the_new_version(served: Served) -> None:
    registry = AliasFails()
    result = lifecycle.retrain(MODEL, settings=served.settings(), engine=served.engine,
                               registry=registry)
    run = result.run
    assert run is not None and run.status == FAILED
    assert "stopped answering" in (run.error or "")
    assert run.registered_version == "1"  # recorded when it was registered ...
    assert registry.versions(MODEL) == []  # ... and deleted when the alias failed
    assert registry.by_alias(MODEL, CHALLENGER) is None


def test_a_dead_retrain_is_marked_lost_and_its_unaliased_version_discarded(
        served: Served) -> None:
    registry = InMemoryRegistry()
    with registry.start_run("lifecycle/credit", "dead") as run:
        uri = run.log_model(_Predicts(), input_example=None)
    orphan: VersionInfo = registry.register(MODEL, uri, run_id=run.run_id)
    now = datetime.now(UTC)
    settings = served.settings()
    request = enqueue(served.engine, RETRAIN, MODEL, requested_by="test", now=now)
    claimed = claim_next(served.engine, owner="dead-process", now=now, lease_seconds=60)
    assert claimed is not None and claimed.id == request.request_id
    retrain_id = open_run(served.engine, MODEL,
                          Lineage("manual", "test", request_id=claimed.id), now=now,
                          champion_version=None)
    update_run(served.engine, retrain_id, registered_version=orphan.version)
    # the request gave up (e.g. its third owner died too)
    assert finish(served.engine, claimed, now=now, status=FAILED, result={}, error="gave up")

    ctx = RunContext(engine=served.engine, settings=settings, registry=registry)
    process_pending(ctx)
    row = list_runs(served.engine, MODEL)[0]
    assert row.status == LOST
    assert f"version {orphan.version} deleted" in (row.error or "")
    assert registry.version(MODEL, orphan.version) is None


def test_running_retrains_of_a_live_request_are_left_alone(served: Served) -> None:
    now = datetime.now(UTC)
    request = enqueue(served.engine, RETRAIN, MODEL, requested_by="test", now=now)
    claimed = claim_next(served.engine, owner="alive", now=now, lease_seconds=600)
    assert claimed is not None
    retrain_id = open_run(served.engine, MODEL,
                          Lineage("manual", "test", request_id=request.request_id), now=now,
                          champion_version=None)
    ctx = RunContext(engine=served.engine, settings=served.settings(),
                     registry=InMemoryRegistry())
    assert process_pending(ctx) == []  # nothing claimable: the owner is alive
    assert [(r.id, r.status) for r in list_runs(served.engine, MODEL)] == [
        (retrain_id, RUNNING)]


class _Predicts:
    def predict(self, frame: object) -> list[int]:
        return []


def test_asking_for_a_model_without_trainer_names_the_key(served: Served) -> None:
    settings = served.settings()
    with pytest.raises(ConfigError, match=r"did you mean 'credit'.*\[models\.credti\.retrain\] "
                                          r"trainer"):
        lifecycle.retrain("credti", settings=settings, engine=served.engine,
                          registry=InMemoryRegistry())
    assert list_runs(served.engine) == []


def test_the_scheduler_refuses_a_bad_trainer_at_start(served: Served) -> None:
    with pytest.raises(TrainerError, match="wrong_signature"):
        run_scheduler(served.engine, served.settings(trainer="wrong_signature"), once=True)
    with pytest.raises(TrainerError, match="no_such_trainer"):
        run_scheduler(served.engine, served.settings(trainer="no_such_trainer"), once=True)
    assert list_runs(served.engine) == []  # refused before any work
    validate_retraining(served.settings())  # the good one passes
