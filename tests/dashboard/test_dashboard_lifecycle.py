"""AppTest: the lifecycle half (Overview status, Retraining, Shadow & promotions) shows the
seeded rows and the registry's aliases, says so when the registry cannot be reached, and its
actions (promote, roll back, retrain) are refused without the token and work with it, through
the CLI's functions, audited."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from dashboard_support import NOW, metric, page_test, run_page, seed, texts
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from lifecycle.states import CHALLENGER, CHAMPION, CONTINUE, DONE, FAILED, PROMOTE, REJECT
from lifecycle.storage.engine import make_engine
from lifecycle.storage.tables import (
    AuditEvent,
    JobRequest,
    ModelRow,
    PromotionEvent,
    RetrainRun,
    ShadowEvaluation,
)

TOKEN = "s3cret-token-0123456"


def _rows(url: str, stmt: object) -> list[object]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return list(session.execute(stmt).all())  # type: ignore[call-overload]
    finally:
        engine.dispose()


def _latest_evaluation(url: str, model: str) -> ShadowEvaluation:
    engine = make_engine(url)
    with Session(engine) as session:
        row = session.scalars(
            select(ShadowEvaluation).join(ModelRow).where(ModelRow.name == model)
            .order_by(ShadowEvaluation.created_at.desc(), ShadowEvaluation.id.desc())
            .limit(1)).one()
        session.expunge(row)
    engine.dispose()
    return row


def _mlflow_aliases(model: str) -> dict[str, str]:
    """The aliases as MLflow's own client reads them from the copied store."""
    import os

    from mlflow import MlflowClient

    uri = os.environ["LIFECYCLE_MLFLOW_TRACKING_URI"]
    aliases = MlflowClient(tracking_uri=uri, registry_uri=uri).get_registered_model(
        model).aliases
    return {alias: str(version) for alias, version in aliases.items()}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------- overview


def test_overview_lifecycle_status_matches_registry_and_rows(seeded_sqlite: str) -> None:
    at = run_page("overview")
    table = at.dataframe[1].value.set_index("model")
    assert list(table.index) == ["churn", "fraud", "house_prices"]
    assert set(table["champion"]) == {"v2"} and set(table["challenger"]) == {"v3"}
    # since: the completion of the last move to the champion (bob's re-promotion)
    done = _rows(seeded_sqlite, select(PromotionEvent.completed_at).join(ModelRow).where(
        ModelRow.name == "fraud", PromotionEvent.status == DONE)
        .order_by(PromotionEvent.created_at.desc()).limit(1))
    assert table.loc["fraud", "since"] == f"{done[0][0]:%Y-%m-%d %H:%M}"
    latest = _latest_evaluation(seeded_sqlite, "churn")
    assert latest.decision == CONTINUE
    needed = latest.details["decision"]["pairs_needed"]
    assert table.loc["churn", "shadow decision"] == (
        f"● continue · {latest.n_paired:,} pairs, ~{needed:,} more")
    assert table.loc["house_prices", "shadow decision"].startswith("● reject")
    # red only where a person is needed
    assert "retrain failed" in table.loc["churn", "needs a person"]
    assert "1 promotion intent(s) not completed" in table.loc["churn", "needs a person"]
    assert "challenger v3 rejected, awaiting review" in table.loc["house_prices",
                                                                  "needs a person"]
    assert table.loc["fraud", "needs a person"] == ""
    assert table.loc["churn", "last retrain"].startswith("● failed")
    banner = at.error[0].value
    assert "retrain failed" in banner and "awaiting review" in banner
    assert "fraud" not in banner


def test_unreachable_registry_is_a_notice_not_a_traceback(
        seeded_sqlite: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFECYCLE_MLFLOW_TRACKING_URI", f"http://127.0.0.1:{_closed_port()}")
    for page in ("overview", "shadow", "retraining"):
        at = run_page(page)
        if page != "retraining":
            notice = " ".join(w.value for w in at.warning)
            assert "cannot be reached" in notice and "lifecycle database" in notice
    at = run_page("overview")
    table = at.dataframe[1].value.set_index("model")
    assert table.loc["fraud", "champion"] == "v2"  # from the recorded promotions
    # a REJECT is assumed still waiting when the registry cannot say otherwise
    assert "awaiting review" in table.loc["house_prices", "needs a person"]


def test_missing_local_store_is_not_created(seeded_sqlite: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "nowhere" / "mlflow.db"
    monkeypatch.setenv("LIFECYCLE_MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    at = run_page("shadow")
    assert "nothing is registered" in texts(at)
    assert not store.exists() and not store.parent.exists()


# ---------------------------------------------------------------------- retraining


def test_retraining_page_shows_runs_metrics_and_failures(seeded_sqlite: str) -> None:
    at = run_page("retraining")
    runs = _rows(seeded_sqlite, select(RetrainRun.id, RetrainRun.status, RetrainRun.metrics,
                                       RetrainRun.mlflow_run_id, RetrainRun.error)
                 .join(ModelRow).where(ModelRow.name == "churn")
                 .order_by(RetrainRun.started_at.desc()))
    statuses = [r[1] for r in runs]
    assert metric(at, "Retrain runs") == str(len(runs))
    assert metric(at, "Done") == str(statuses.count(DONE))
    assert metric(at, "Failed") == str(statuses.count(FAILED))
    assert statuses[0] == FAILED  # the newest run is chosen first: its error and traceback
    assert runs[0][4] in texts(at)
    assert "Traceback" in at.expander[0].label and "RegistryUnavailableError" in (
        at.code[0].value)
    done = next(r for r in runs if r[1] == DONE)
    at.selectbox(key="retrain_run").select(done[0]).run()
    assert not at.exception
    holdout = at.dataframe[-1].value.set_index("metric")
    for name, value in done[2]["new"].items():
        assert float(holdout.loc[name, "new model"]) == pytest.approx(value, rel=1e-3)
        assert float(holdout.loc[name, "champion"]) == pytest.approx(
            done[2]["champion"][name], rel=1e-3)
    # a local store: the run and where it is, not a dead link
    assert f"run {done[3]} in the local store" in texts(at)


# ---------------------------------------------------------------------- shadow


def test_shadow_page_shows_the_decision_interval_and_history(seeded_sqlite: str) -> None:
    at = run_page("shadow")
    latest = _latest_evaluation(seeded_sqlite, "churn")
    record = latest.details["decision"]
    assert f"-badge[{latest.decision}]" in texts(at)
    assert metric(at, "Labelled pairs") == f"{latest.n_paired:,}"
    assert metric(at, "Pairs still needed") == f"~{record['pairs_needed']:,}"
    assert metric(at, "Delta (accuracy)") == f"{latest.metric_delta:+.4f}"
    assert (f"90% CI **{latest.metric_delta:+.4f} [{latest.ci_low:+.4f}, "
            f"{latest.ci_high:+.4f}]**") in texts(at)
    assert metric(at, "Shadow drop rate") == f"{latest.details['counts']['drop_rate']:.1%}"
    assert len(at.get("vega_lite_chart")) == 3  # delta band, rates, latency of both
    moves = _rows(seeded_sqlite, select(PromotionEvent.action, PromotionEvent.actor)
                  .join(ModelRow).where(ModelRow.name == "churn"))
    history = at.dataframe[-1].value
    assert len(history) == len(moves)
    assert set(history["action"]) == {"promote", "rollback"}
    gate = history[history["decided by"].str.contains("shadow gate")]
    assert len(gate) == 1 and gate.iloc[0]["numbers"].startswith("delta +")
    assert "alice" in set(history["decided by"])


def test_shadow_page_interval_narrows_as_pairs_accumulate(seeded_sqlite: str) -> None:
    rows = _rows(seeded_sqlite, select(ShadowEvaluation.n_paired, ShadowEvaluation.ci_low,
                                       ShadowEvaluation.ci_high).join(ModelRow)
                 .where(ModelRow.name == "fraud", ShadowEvaluation.challenger_version == "3")
                 .order_by(ShadowEvaluation.created_at))
    widths = [hi - lo for _, lo, hi in rows]
    assert [n for n, _, _ in rows] == sorted(n for n, _, _ in rows)
    assert widths == sorted(widths, reverse=True) and widths[-1] < widths[0] / 3


# ---------------------------------------------------------------------- actions


def test_lifecycle_pages_are_read_only_without_a_token(seeded_sqlite: str) -> None:
    for page, buttons in (("shadow", {"Promote", "Roll back"}), ("retraining",
                                                                 {"Queue retrain"})):
        at = run_page(page)
        assert "Read-only: no admin token is configured" in texts(at)
        assert not buttons & {b.label for b in at.button}


def _submit(at: AppTest, prefix: str, button: str, *, token: str, actor: str = "dora",
            reason: str | None = None) -> None:
    if reason is not None:
        at.text_input(key=f"{prefix}_reason").input(reason)
    at.text_input(key=f"{prefix}_actor").input(actor)
    at.text_input(key=f"{prefix}_token").input(token)
    at.checkbox(key=f"{prefix}_confirm").check()
    [b for b in at.button if b.label == button][0].click().run()
    assert not at.exception, [e.value for e in at.exception]


def _open_shadow(model: str) -> AppTest:
    at = page_test("shadow").run()
    at.selectbox(key="shadow_model").select(model).run()
    assert not at.exception
    return at


def _audit(url: str, action: str) -> list[tuple[str, dict[str, object]]]:
    return [(a, d) for a, d in _rows(url, select(AuditEvent.actor, AuditEvent.details)
                                     .where(AuditEvent.action == action)
                                     .order_by(AuditEvent.id))]  # type: ignore[misc]


def test_promote_needs_a_reason_unless_the_gate_decided(
        seeded_sqlite: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFECYCLE_ADMIN_TOKEN", TOKEN)
    before = _mlflow_aliases("fraud")
    assert before[CHAMPION] == "2" and before[CHALLENGER] == "3"
    n_moves = len(_rows(seeded_sqlite, select(PromotionEvent.id)))
    at = _open_shadow("fraud")
    _submit(at, "promote", "Promote", token="wrong-token-0123456789")
    assert any("Refused: wrong admin token" in e.value for e in at.error)
    _submit(at, "promote", "Promote", token=TOKEN)
    assert any("a manual promotion needs a reason" in e.value and "CONTINUE" in e.value
               for e in at.error)
    assert _mlflow_aliases("fraud") == before
    assert len(_rows(seeded_sqlite, select(PromotionEvent.id))) == n_moves

    _submit(at, "promote", "Promote", token=TOKEN, reason="v3 fixes the fuel-merchant bug")
    assert any("fraud: champion 2 -> 3, promoted by dora (manual override" in s.value
               for s in at.success)
    after = _mlflow_aliases("fraud")
    assert after[CHAMPION] == "3" and after["previous"] == "2" and CHALLENGER not in after
    event = _rows(seeded_sqlite, select(PromotionEvent.actor, PromotionEvent.status,
                                        PromotionEvent.details, PromotionEvent.evaluation_id)
                  .order_by(PromotionEvent.id.desc()).limit(1))[0]
    assert event[:2] == ("dora", DONE) and event[3] is None
    assert event[2]["reason"] == "v3 fixes the fuel-merchant bug"
    assert [a for a, _ in _audit(seeded_sqlite, "model.promote")][-1] == "dora"
    override = _audit(seeded_sqlite, "model.promote.override")
    assert override[-1][0] == "dora" and override[-1][1]["latest_decision"] == CONTINUE
    # the page shows the new state at once: the new champion and the move in the history
    assert "Champion **v3**" in texts(at)
    assert at.dataframe[-1].value.iloc[0]["decided by"] == "dora"


def test_promote_on_a_promote_decision_keeps_the_numbers(
        seeded_sqlite: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFECYCLE_ADMIN_TOKEN", TOKEN)
    engine = make_engine(seeded_sqlite)
    with Session(engine) as session, session.begin():
        model_id = session.scalar(select(ModelRow.id).where(ModelRow.name == "fraud"))
        decided = ShadowEvaluation(
            model_id=model_id, champion_version="2", challenger_version="3",
            created_at=NOW - timedelta(minutes=1), n_paired=4000, decision=PROMOTE,
            test="mcnemar", statistic=12.0, p_value=0.0004, metric_delta=0.021,
            ci_low=0.01, ci_high=0.032, guardrails={},
            details={"decision": {"decision": PROMOTE, "n_pairs": 4000, "test": "mcnemar",
                                  "statistic": 12.0, "p_value": 0.0004, "delta": 0.021,
                                  "ci_low": 0.01, "ci_high": 0.032}})
        session.add(decided)
        session.flush()
        evaluation_id = decided.id
    engine.dispose()
    at = _open_shadow("fraud")
    assert metric(at, "Labelled pairs") == "4,000"
    _submit(at, "promote", "Promote", token=TOKEN, actor="erin")
    assert any("promoted by erin (promotion" in s.value for s in at.success)
    event = _rows(seeded_sqlite, select(PromotionEvent.evaluation_id, PromotionEvent.details)
                  .order_by(PromotionEvent.id.desc()).limit(1))[0]
    assert event[0] == evaluation_id
    assert event[1]["numbers"]["n_pairs"] == 4000 and event[1]["numbers"]["p_value"] == 0.0004
    assert not _audit(seeded_sqlite, "model.promote.override")
    assert _mlflow_aliases("fraud")[CHAMPION] == "3"


def test_rollback_serves_the_previous_champion_and_is_audited(
        seeded_sqlite: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFECYCLE_ADMIN_TOKEN", TOKEN)
    assert _mlflow_aliases("house_prices")["previous"] == "1"
    at = _open_shadow("house_prices")
    _submit(at, "rollback", "Roll back", token=TOKEN, actor="frank",
            reason="latency doubled")
    assert any("house_prices: champion 2 -> 1, rolled back by frank" in s.value
               for s in at.success)
    aliases = _mlflow_aliases("house_prices")
    assert aliases[CHAMPION] == "1" and aliases["previous"] == "2"
    audit = _audit(seeded_sqlite, "model.rollback")
    assert audit[-1][0] == "frank" and audit[-1][1]["reason"] == "latency doubled"


def test_retrain_is_queued_for_a_scheduler_and_audited(
        seeded_sqlite: str, monkeypatch: pytest.MonkeyPatch, tmp_home: Path) -> None:
    (Path.cwd() / "lifecycle.toml").write_text(
        '[models.churn]\nfeatures = ["tenure_months"]\n'
        '[models.churn.retrain]\ntrainer = "churn_training:train"\n')
    monkeypatch.setenv("LIFECYCLE_ADMIN_TOKEN", TOKEN)
    at = page_test("retraining").run()
    assert not at.exception
    _submit(at, "retrain", "Queue retrain", token=TOKEN, actor="gina",
            reason="new labels from the call centre")
    assert any("retrain of 'churn' queued as request" in s.value and "gina" in s.value
               for s in at.success)
    request = _rows(seeded_sqlite, select(JobRequest.kind, JobRequest.model_name,
                                          JobRequest.status, JobRequest.requested_by))
    assert request == [("retrain", "churn", "pending", "gina")]
    audit = _audit(seeded_sqlite, "retrain.request")
    assert audit[-1][0] == "gina" and audit[-1][1]["reason"] == (
        "new labels from the call centre")
    # asked again within the cooldown: refused, nothing new queued
    _submit(at, "retrain", "Queue retrain", token=TOKEN, actor="gina")
    assert any("retrain_cooldown" in e.value for e in at.error)
    assert len(_rows(seeded_sqlite, select(func.count()).select_from(JobRequest))) == 1
    assert _rows(seeded_sqlite, select(func.count()).select_from(JobRequest))[0][0] == 1


def test_retrain_of_a_model_without_trainer_is_refused(
        seeded_sqlite: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFECYCLE_ADMIN_TOKEN", TOKEN)
    at = page_test("retraining").run()
    _submit(at, "retrain", "Queue retrain", token=TOKEN)
    assert any("has no trainer" in e.value for e in at.error)
    assert not _rows(seeded_sqlite, select(JobRequest.id))


def test_lifecycle_pages_on_an_empty_database(sqlite_url: str,
                                              use_db: Callable[[str], None]) -> None:
    use_db(sqlite_url)
    for page in ("retraining", "shadow"):
        assert "lifecycle demo" in texts(run_page(page))


def test_seeded_decisions_are_the_product_constants(seeded_sqlite: str) -> None:
    from lifecycle.states import DECISIONS, RETRAIN_STATUSES

    decisions = {d for (d,) in _rows(seeded_sqlite, select(ShadowEvaluation.decision)
                                     .distinct())}
    statuses = {s for (s,) in _rows(seeded_sqlite, select(RetrainRun.status).distinct())}
    assert decisions <= set(DECISIONS) and {CONTINUE, PROMOTE, REJECT} <= decisions
    assert statuses <= set(RETRAIN_STATUSES) and len(statuses) == 3
    failed = _rows(seeded_sqlite, select(RetrainRun.details).where(RetrainRun.status == FAILED))
    assert failed and all("Traceback" in d["traceback"] for (d,) in failed)


def test_seed_with_the_in_memory_registry(sqlite_url: str) -> None:
    from lifecycle.seed import DEFAULT_MODELS, LoopSize
    from lifecycle.testing import InMemoryRegistry

    registry = InMemoryRegistry()
    summary = seed(sqlite_url, models=DEFAULT_MODELS, days=4, predictions=None,
                   registry=registry, loop=LoopSize(retrain_runs=10, shadow_evaluations=40,
                                                    promotions=4))
    assert summary.rows["retrain_runs"] == 50
    assert summary.rows["shadow_evaluations"] == 200
    assert summary.rows["promotion_events"] == 5 * 4 + 2  # + a pending intent, + a promote
    demand = registry.aliases["demand"]
    assert demand[CHAMPION] == "3" and demand[CHALLENGER] == "4"
    assert CHALLENGER not in registry.aliases["credit_risk"]  # decided PROMOTE and promoted
    runs = _rows(sqlite_url, select(RetrainRun.mlflow_run_id, RetrainRun.registered_version)
                 .where(RetrainRun.status == DONE))
    assert {r for r, _ in runs} <= set(registry.runs)


# ---------------------------------------------------------------------- lineage


def test_lineage_shows_the_chain_of_the_champion_and_the_challenger(seeded_sqlite: str) -> None:
    at = run_page("lineage")
    assert at.selectbox(key="lineage_version").value == "2"  # the champion first
    retrain = _rows(seeded_sqlite, select(RetrainRun.id, RetrainRun.mlflow_run_id)
                    .join(ModelRow).where(ModelRow.name == "churn",
                                          RetrainRun.registered_version == "2"))[0]
    body = texts(at)
    assert f"**Retrain run #{retrain[0]}**" in body and f"`{retrain[1]}`" in body
    assert "[Retraining](/retraining)" in body
    moves = _rows(seeded_sqlite, select(PromotionEvent.id).join(ModelRow).where(
        ModelRow.name == "churn", (PromotionEvent.to_version == "2")
        | (PromotionEvent.from_version == "2")))
    assert sum(f"#{m[0]}**" in body for m in moves) == len(moves) == 4

    at.selectbox(key="lineage_version").select("3").run()
    assert not at.exception
    body = texts(at)
    run = _rows(seeded_sqlite, select(RetrainRun.id, RetrainRun.trigger_alert_id,
                                      RetrainRun.drift_report_id).join(ModelRow)
                .where(ModelRow.name == "churn", RetrainRun.registered_version == "3"))[0]
    assert f"**Alert #{run[1]}**" in body and "[Jobs & alerts](/jobs)" in body
    assert f"**Data drift report #{run[2]}**" in body and f"**Retrain run #{run[0]}**" in body
    n_evals = _rows(seeded_sqlite, select(func.count()).select_from(ShadowEvaluation)
                    .join(ModelRow).where(ModelRow.name == "churn",
                                          ShadowEvaluation.challenger_version == "3"))[0][0]
    assert f"**Shadow evaluations ({n_evals})**" in body
    assert "by carol" in body and "pending" in body  # the intent stuck pending


def test_lineage_without_the_registry_says_why(seeded_sqlite: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFECYCLE_MLFLOW_TRACKING_URI", f"http://127.0.0.1:{_closed_port()}")
    at = run_page("lineage")
    assert "cannot be reached" in texts(at) and "needs the registry" in texts(at)
