"""Lineage: for a chosen version, the chain drift/performance report -> alert -> retrain run
-> MLflow run -> version -> shadow evaluations -> promotion, each step pointing at the page
that shows it (:func:`lifecycle.jobs.lineage.version_lineage`, through the dashboard's one
cached, bounded registry lookup)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from lifecycle.dashboard import charts, loop_tables, registry_view, ui
from lifecycle.registry.base import PREVIOUS
from lifecycle.states import CHALLENGER, CHAMPION

#: Pages a step links to (their ``url_path`` in ``app.pages()``).
PAGE_LINKS = {"drift": "drift", "alerts": "jobs", "retrain": "retraining",
              "shadow": "shadow"}


def _page(key: str, text: str) -> str:
    return f"[{text}](/{PAGE_LINKS[key]})"


def _when(value: Any) -> str:
    return ui.fmt_time(value) if value is not None else "-"


def _step(title: str, body: str, where: str | None = None) -> None:
    st.markdown(f"**{title}** · {body}" + (f" · {where}" if where else ""))


def _versions(view: registry_view.RegistryView, model: str) -> tuple[list[str], int]:
    found = [v.version for v in view.versions.get(model, ())]
    champion = view.alias(model, CHAMPION)
    index = found.index(champion.version) if champion and champion.version in found else 0
    return found, index


def _label(view: registry_view.RegistryView, model: str, version: str) -> str:
    v = view.version(model, version)
    aliases = [a for a in (CHAMPION, CHALLENGER, PREVIOUS) if v and a in v.aliases]
    return f"v{version}" + (f" ({', '.join(aliases)})" if aliases else "")


def _chain(ctx: ui.Context, lin: Any, experiment: str | None) -> None:
    v = lin.version
    st.subheader(f"{lin.model} v{v.version}")
    if lin.reports:
        for r in lin.reports:
            kind = ("Performance" if r.kind == "performance"
                    else f"{r.kind.title()} drift")
            _step(f"{kind} report #{r.id}", f"{_when(r.window_start)} to {_when(r.window_end)} · "
                  f"{charts.status_badge(r.verdict)}", _page("drift", "Drift page")
                  if r.kind != "performance" else "[Performance page](/performance)")
    else:
        _step("Report", "none linked (a manual retrain, or a version registered by hand)")
    if lin.alert is not None:
        a = lin.alert
        _step(f"Alert #{a.id}", f"{a.kind}{' / ' + a.feature if a.feature else ''} · "
              f"{a.severity} · {charts.status_badge(a.status)} · first seen "
              f"{_when(a.first_seen)}", _page("alerts", "Jobs & alerts"))
    else:
        _step("Alert", "none")
    if lin.retrain is not None:
        t = lin.retrain
        _step(f"Retrain run #{t.id}", f"{t.trigger} by {t.actor} · "
              f"{charts.status_badge(t.status)} · {ui.fmt_time(t.started_at)} · "
              f"{t.n_rows if t.n_rows is not None else '?'} rows · challenged "
              f"v{t.champion_version or '-'}", _page("retrain", "Retraining"))
    else:
        _step("Retrain run", "none (registered by hand)")
    run_id = lin.run.run_id if lin.run is not None else v.run_id
    link = registry_view.run_link(ctx.settings.mlflow_tracking_uri,
                                  lin.run.experiment_id if lin.run else experiment, run_id)
    if link is None:
        _step("MLflow run", "none")
    elif registry_view.is_url(link):
        _step("MLflow run", f"[{run_id}]({link})" + (f" · {lin.run.status}" if lin.run else ""))
    else:
        _step("MLflow run", f"`{run_id}`" + (f" · {lin.run.status}" if lin.run else ""), link)
    _step(f"Version v{v.version}", f"aliases {', '.join(v.aliases) or 'none'} · status "
          f"{v.status or '-'} · registered {_when(v.created_at)}")
    if lin.evaluations:
        last = lin.evaluations[-1]
        _step(f"Shadow evaluations ({len(lin.evaluations)})",
              f"latest #{last.id} {_when(last.created_at)} vs champion "
              f"v{last.champion_version}: {charts.status_badge(last.decision)} · "
              f"{last.n_paired:,} labelled pairs · delta "
              f"{loop_tables.interval(last.metric_delta, last.ci_low, last.ci_high)}",
              _page("shadow", "Shadow & promotions"))
    else:
        _step("Shadow evaluations", "none as a challenger")
    if lin.moves or lin.rejections:
        for m in lin.moves:
            _step(f"{m.action.title()} #{m.id}", f"v{m.from_version or '-'} → v{m.to_version} by "
                  f"{m.actor} · {charts.status_badge(m.status)} · {_when(m.created_at)}"
                  + (f" · {m.reason}" if m.reason else ""),
                  _page("shadow", "Shadow & promotions"))
        for j in lin.rejections:
            _step("Rejected", f"by {j.actor} · {_when(j.at)}"
                  + (f" · {j.reason}" if j.reason else ""))
    else:
        _step("Promotion", "none yet")
    for note in lin.notes:
        st.caption(note)


def render() -> None:
    page = ui.open_page("Lineage")
    if page is None:
        return
    ctx, models = page
    c1, c2 = st.columns(2)
    with c1:
        _, model = ui.pick_model(models, "lineage_model")
    view = registry_view.registry_view(ctx.settings.mlflow_tracking_uri, tuple(models["name"]))
    if not view.available:
        registry_view.notice(view)
        st.info("The lineage starts at a registered version: it needs the registry. The "
                "Retraining and Shadow & promotions pages show what the database recorded.")
        return
    versions, index = _versions(view, model)
    if not versions:
        st.info(f"No registered version of **{model}** yet: a retrain registers one "
                f"(`lifecycle retrain {model}`), `lifecycle register` adopts an existing "
                "model.")
        return
    with c2:
        version = st.selectbox("Version", versions, index=index, key="lineage_version",
                               format_func=lambda v: _label(view, model, v))
    answer = registry_view.lineage(ctx.url, ctx.settings.mlflow_tracking_uri, model,
                                   str(version))
    if answer.lineage is None:
        st.warning(answer.problem or "No lineage.")
        return
    _chain(ctx, answer.lineage, view.experiments.get(model))
    st.caption("Upstream first: what asked for the version, how it was trained, how it did "
               "in shadow and what became of it. The same chain as `lifecycle lineage "
               f"{model} {version}`.")
