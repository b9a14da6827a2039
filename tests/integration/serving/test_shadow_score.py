"""Batch shadow scoring (``lifecycle.jobs.shadow_score``): the challenger answers, later and
from the logged inputs, the requests the champion served; its rows pair with the served
rows exactly as live shadow rows do, and a rerun scores nothing twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from serving_support import COLUMNS, DictRegistry, training_data
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import lifecycle
from lifecycle.config import load_settings
from lifecycle.errors import ShadowInputsMissingError
from lifecycle.jobs.kinds import JOBS, import_path
from lifecycle.jobs.runner import run_window
from lifecycle.jobs.shadow_score import run_shadow_scoring
from lifecycle.states import CHALLENGER, CHAMPION, DONE, EMPTY, ROLES, UNMANAGED
from lifecycle.storage.engine import make_engine
from lifecycle.storage.labelled import load_labelled_window
from lifecycle.storage.types import utcnow

NAME = "churn"


def _settings(tmp_path: Path, url: str, mlflow_uri: str = "sqlite:///unused.db") -> Any:
    path = tmp_path / "lifecycle.toml"
    path.write_text(f'database_url = "{url}"\nhome = "{tmp_path / "home"}"\n'
                    f'mlflow_tracking_uri = "{mlflow_uri}"\n'
                    f'[models.{NAME}]\nid_column = "customer_id"\n'
                    f'[models.{NAME}.schedule.shadow_score]\nevery = "15m"\n')
    return load_settings(path, env={}, cwd=tmp_path)


def _with_ids(frame: pd.DataFrame, start: int) -> pd.DataFrame:
    out = frame.copy()
    out.insert(0, "customer_id", np.arange(start, start + len(frame)))
    return out


def _register(registry: Any, model: Any, example: pd.DataFrame, alias: str) -> str:
    with registry.start_run("shadow-score-tests", f"{alias}-run") as run:
        uri = run.log_model(model, input_example=example)
    version = str(registry.register(NAME, uri, run_id=run.run_id).version)
    registry.set_alias(NAME, alias, version)
    return version


def _roles(window: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    meta = window.meta
    return (meta[meta["role"] == CHAMPION].reset_index(drop=True),
            meta[meta["role"] == CHALLENGER].reset_index(drop=True))


def _id_blind_champion() -> Any:
    """A champion served frames with their ``customer_id`` (it ignores the column); the
    challenger takes only the features (the job gives it its own columns)."""
    x, y = training_data()
    ids = _with_ids(x, 0)
    return make_pipeline(ColumnTransformer([("f", "passthrough", COLUMNS)]),
                         LogisticRegression()).fit(ids, y)


@pytest.mark.slow
def test_batch_rows_pair_like_live_rows_and_a_rerun_adds_nothing(
    db_url: str, tmp_path: Path, capture_into: Any, managed: Any, logged: Any,
    classifiers: Any, frame: pd.DataFrame,
) -> None:
    from lifecycle.registry.mlflow_store import MlflowRegistry

    challenger = classifiers[1]
    champion = _id_blind_champion()
    mlflow_uri = f"sqlite:///{tmp_path}/mlflow.db"
    registry = MlflowRegistry(mlflow_uri)  # what the job makes from the settings
    first = _register(registry, champion, _with_ids(frame.head(5), 0), CHAMPION)
    second = _register(registry, challenger, frame.head(5), CHALLENGER)
    capture_into(db_url)
    start = utcnow() - timedelta(minutes=1)
    model = managed(NAME, registry=registry, poll_seconds=3600, shadow="batch",
                    id_column="customer_id")
    requests = [_with_ids(frame.iloc[i:i + 10], 1000 + i) for i in range(0, 30, 10)]
    model.predict_proba(requests[0])
    model.predict(requests[1])
    model.predict_proba(requests[2].iloc[:1])  # a one-row request
    assert model.flush(30)
    stats = model.stats
    assert (stats.served, stats.shadow_deferred, stats.shadowed, stats.shadow_mode) == (
        3, 3, 0, "batch")
    assert model.versions == (first, second)
    lifecycle.log_outcomes(NAME, [1000 + i for i in range(21)], [1] * 21)
    assert lifecycle.flush(30)
    end = utcnow() + timedelta(minutes=1)

    settings = _settings(tmp_path, db_url, mlflow_uri)
    ran = run_window("shadow_score", make_engine(db_url), settings, NAME, start, end)
    assert ran.status == DONE, ran.error

    champion_rows, shadow_rows = _roles(logged(db_url, NAME))
    assert len(champion_rows) == len(shadow_rows) == 21
    assert set(shadow_rows["model_version"]) == {second}
    pairs = champion_rows.merge(shadow_rows, left_on="prediction_id", right_on="request_id",
                                suffixes=("", "_shadow"))
    assert len(pairs) == 21
    assert (pairs["join_key_shadow"] == pairs["join_key"]).all()
    assert (pairs["ts_shadow"] == pairs["ts"]).all()
    assert set(pairs["join_key"]) == {str(1000 + i) for i in range(21)}

    window = logged(db_url, NAME)
    mine = (window.meta["role"] == CHALLENGER).to_numpy()
    outputs = window.outputs.loc[mine].reset_index(drop=True)
    keys = window.meta.loc[mine, "join_key"].astype(int).to_numpy()
    by_key = pd.concat(requests).set_index("customer_id").loc[keys, COLUMNS]
    proba = outputs["proba_1"].notna().to_numpy()
    assert proba.sum() == 11  # the predict_proba requests: 10 + 1 rows
    np.testing.assert_allclose(outputs.loc[proba, "proba_1"],
                               challenger.predict_proba(by_key[proba])[:, 1])
    np.testing.assert_array_equal(outputs["prediction"].astype(int),
                                  challenger.predict(by_key))

    # a rerun of the window (the function, outside the lease) scores nothing twice
    again = run_shadow_scoring(make_engine(db_url), settings, NAME, start, end,
                               registry=registry)
    assert (again.served, again.already_scored, again.scored) == (21, 21, 0)
    assert len(_roles(logged(db_url, NAME))[1]) == 21

    labelled = load_labelled_window(make_engine(db_url), NAME, start, end, roles=ROLES)
    frame_ = labelled.frame
    assert frame_.groupby("role")["label"].count().to_dict() == {CHAMPION: 21, CHALLENGER: 21}


def test_the_job_kind_is_registered() -> None:
    assert import_path(JOBS["shadow_score"]) is run_shadow_scoring


def _served_batch(url: str, capture_into: Any, managed: Any, champion: Any, challenger: Any,
                  frame: pd.DataFrame, **options: Any) -> tuple[DictRegistry, Any]:
    capture_into(url)
    registry = DictRegistry(NAME)
    registry.add("1", champion, CHAMPION)
    registry.add("2", challenger, CHALLENGER)
    model = managed(NAME, registry=registry, poll_seconds=3600, shadow="batch", **options)
    model.predict(frame.iloc[:8])
    model.predict(frame.iloc[8:12])
    assert model.flush(30)
    return registry, model


def _window() -> tuple[Any, Any]:
    now = utcnow()
    return now - timedelta(hours=1), now + timedelta(hours=1)


def test_no_challenger_scores_nothing(sqlite_url: str, tmp_path: Path, capture_into: Any,
                                      managed: Any, logged: Any, classifiers: Any,
                                      frame: pd.DataFrame) -> None:
    champion, challenger = classifiers
    registry, _ = _served_batch(sqlite_url, capture_into, managed, champion, challenger, frame)
    registry.delete_alias(NAME, CHALLENGER)
    start, end = _window()
    result = run_shadow_scoring(make_engine(sqlite_url), _settings(tmp_path, sqlite_url),
                                NAME, start, end, registry=registry)
    assert result.empty and "no 'challenger' alias" in (result.reason or "")
    assert result.to_dict()["outcome"] == EMPTY
    assert registry.loads == ["1"]  # batch mode never loaded the challenger either
    assert set(logged(sqlite_url, NAME).meta["role"]) == {CHAMPION}


def test_live_shadow_rows_are_not_scored_again(db_url: str, tmp_path: Path,
                                               capture_into: Any, managed: Any, logged: Any,
                                               classifiers: Any, frame: pd.DataFrame) -> None:
    """Requests the live shadow answered are skipped; those it dropped are scored."""
    champion, challenger = classifiers
    capture_into(db_url)
    registry = DictRegistry(NAME)
    registry.add("1", champion, CHAMPION)
    registry.add("2", challenger, CHALLENGER)
    live = managed(NAME, registry=registry, poll_seconds=3600, shadow="live")
    live.predict(frame.iloc[:5])
    assert live.flush(30)
    solo = managed(NAME, registry=registry, poll_seconds=3600, shadow="off")
    solo.predict(frame.iloc[5:12])
    assert solo.flush(30) and solo.versions == ("1", None)
    start, end = _window()
    result = run_shadow_scoring(make_engine(db_url), _settings(tmp_path, db_url), NAME,
                                start, end, registry=registry)
    assert (result.served, result.already_scored, result.scored, result.batches) == (
        12, 5, 7, 1)
    champion_rows, shadow_rows = _roles(logged(db_url, NAME))
    assert sorted(shadow_rows["request_id"]) == sorted(champion_rows["prediction_id"])


def test_unmanaged_rows_are_scored(sqlite_url: str, tmp_path: Path, capture_into: Any,
                                   logged: Any, classifiers: Any, frame: pd.DataFrame) -> None:
    """A team serving with @monitor: rows of the champion's version or of no version."""
    champion, challenger = classifiers
    capture_into(sqlite_url)
    registry = DictRegistry(NAME)
    registry.add("1", champion, CHAMPION)
    registry.add("2", challenger, CHALLENGER)
    lifecycle.monitor(NAME, version="1")(champion).predict(frame.iloc[:4])
    lifecycle.monitor(NAME)(champion).predict(frame.iloc[4:6])
    lifecycle.monitor(NAME, version="0")(champion).predict(frame.iloc[6:9])  # not the champion
    assert lifecycle.flush(30)
    start, end = _window()
    result = run_shadow_scoring(make_engine(sqlite_url), _settings(tmp_path, sqlite_url),
                                NAME, start, end, registry=registry)
    assert (result.served, result.scored) == (6, 6)
    meta = logged(sqlite_url, NAME).meta
    served = meta[(meta["role"] == UNMANAGED) & (meta["model_version"] != "0")]
    shadow = meta[meta["role"] == CHALLENGER]
    assert sorted(shadow["request_id"]) == sorted(served["prediction_id"])
    assert sorted(shadow["join_key"]) == sorted(served["join_key"])


@pytest.mark.parametrize("protect", ["redact", "hash_columns"])
def test_inputs_missing_from_the_log_name_the_columns_and_the_fix(
    sqlite_url: str, tmp_path: Path, capture_into: Any, managed: Any, logged: Any,
    classifiers: Any, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, protect: str,
) -> None:
    champion, challenger = classifiers
    monkeypatch.setenv("LIFECYCLE_HASH_KEY", "k" * 32)
    registry, _ = _served_batch(sqlite_url, capture_into, managed, champion, challenger,
                                frame, **{protect: ["f1"]})
    start, end = _window()
    why = "not logged" if protect == "redact" else "keyed hashes"
    with pytest.raises(ShadowInputsMissingError, match=why + r".*\['f1'\].*shadow=\"live\""):
        run_shadow_scoring(make_engine(sqlite_url), _settings(tmp_path, sqlite_url), NAME,
                           start, end, registry=registry)
    assert set(logged(sqlite_url, NAME).meta["role"]) == {CHAMPION}


class Raises:
    def __init__(self, inner: Any) -> None:
        self.feature_names_in_ = inner.feature_names_in_

    def predict(self, x: Any) -> Any:
        raise RuntimeError("challenger exploded")


def test_a_challenger_that_raises_is_counted_and_never_fails_the_job(
    sqlite_url: str, tmp_path: Path, capture_into: Any, managed: Any, logged: Any,
    classifiers: Any, frame: pd.DataFrame,
) -> None:
    champion, challenger = classifiers
    registry, _ = _served_batch(sqlite_url, capture_into, managed, champion,
                                Raises(challenger), frame)
    start, end = _window()
    result = run_shadow_scoring(make_engine(sqlite_url), _settings(tmp_path, sqlite_url),
                                NAME, start, end, registry=registry, chunk_rows=5)
    assert (result.scored, result.failed, result.batches) == (0, 12, 0)
    assert "challenger exploded" in (result.first_error or "")
    assert set(logged(sqlite_url, NAME).meta["role"]) == {CHAMPION}


def test_chunks_are_written_one_batch_each(sqlite_url: str, tmp_path: Path, capture_into: Any,
                                           managed: Any, logged: Any, classifiers: Any,
                                           frame: pd.DataFrame) -> None:
    champion, challenger = classifiers
    registry, _ = _served_batch(sqlite_url, capture_into, managed, champion, challenger, frame)
    start, end = _window()
    result = run_shadow_scoring(make_engine(sqlite_url), _settings(tmp_path, sqlite_url),
                                NAME, start, end, registry=registry, chunk_rows=5)
    assert (result.scored, result.batches) == (12, 3)
    shadow = _roles(logged(sqlite_url, NAME))[1]
    np.testing.assert_array_equal(shadow["prediction_id"].str.len(), 32)
    assert shadow["prediction_id"].is_unique
    assert (shadow["latency_ms"] >= 0).all()
