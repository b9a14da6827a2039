"""Shadow & promotions: the challenger against the champion on the same labelled requests
(metric delta and its interval over time, agreement, latency of both, shadow drop rate, the
current decision and the pairs still needed), the promotion and rollback history, and the
promote / roll back actions."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from lifecycle.dashboard import (
    actions_loop,
    charts,
    data,
    data_loop,
    forms,
    loop_charts,
    loop_tables,
    registry_view,
    tables,
    ui,
)
from lifecycle.registry.base import PREVIOUS
from lifecycle.states import CHALLENGER, CHAMPION, CONTINUE, PROMOTE

NO_EVALUATION = (
    "No shadow evaluation of **{model}** in the last {range}. Once a challenger (alias "
    "`challenger`) is shadowed by `ManagedModel` and its requests get labels, the scheduler's "
    "shadow job (or `lifecycle shadow evaluate {model}`) writes one evaluation per look."
)


def _pair(view: registry_view.RegistryView, model: str,
          evals: pd.DataFrame) -> tuple[str | None, str | None]:
    """(champion, challenger) as the registry has them; from the latest evaluation when the
    registry did not answer."""
    if view.available:
        champion = view.alias(model, CHAMPION)
        challenger = view.alias(model, CHALLENGER)
        return (None if champion is None else champion.version,
                None if challenger is None else challenger.version)
    if evals.empty:
        return None, None
    last = evals.iloc[-1]
    return str(last["champion_version"]), str(last["challenger_version"])


def _decision(latest: pd.Series) -> None:
    m1, m2, m3, m4 = st.columns(4)
    ui.verdict(m1, "Current decision", str(latest["decision"]))
    m2.metric("Labelled pairs", f"{int(latest['n_paired']):,}")
    needed = latest["pairs_needed"]
    m3.metric("Pairs still needed",
              "-" if latest["decision"] != CONTINUE or needed is None or pd.isna(needed)
              else f"~{int(needed):,}",
              help="the gate's estimate of the labelled pairs a decision likely needs "
                   "(CONTINUE only; none when the effect points away from promotion)")
    m4.metric(f"Delta ({latest['metric'] or 'metric'})",
              "-" if pd.isna(latest["delta"]) else f"{float(latest['delta']):+.4f}",
              help="challenger minus champion, with the gate's interval (two-sided at "
                   "1 - 2 alpha, so its lower end is the one-sided bound)")
    st.markdown(
        f"{loop_tables.level(latest['confidence'])}CI "
        f"**{loop_tables.interval(latest['delta'], latest['ci_low'], latest['ci_high'])}**"
        f" · test `{latest['test'] or 'none yet'}` · p-value {tables.sig(latest['p_value'])}"
        f" against alpha {tables.sig(latest['nominal_alpha'])} at this look · "
        f"champion {tables.sig(latest['champion_value'])}, challenger "
        f"{tables.sig(latest['challenger_value'])}")
    if latest["reason"]:
        st.caption(f"Gate: {latest['reason']}")


def _shared_traffic(ctx: ui.Context, model_id: int, start: datetime,
                    pair: pd.DataFrame) -> None:
    latest = pair.iloc[-1]
    left, right = st.columns(2)
    with left:
        st.markdown("**Agreement and shadow drop rate**")
        rates = loop_charts.rates_frame(pair)
        k1, k2 = st.columns(2)
        k1.metric("Agreement", ui.fmt_share(latest["agreement_rate"]),
                  help="share of shared requests where both models gave the same answer "
                       "(classification)")
        k2.metric("Shadow drop rate", ui.fmt_share(latest["drop_rate"]),
                  help="share of champion requests the challenger never answered (queue "
                       "full, error)")
        if rates.empty:
            st.caption("No rates stored with these evaluations.")
        else:
            st.altair_chart(loop_charts.rates_chart(rates), width="stretch")
    with right:
        st.markdown("**Latency of both**")
        k1, k2 = st.columns(2)
        k1.metric("Champion p95 (ms)", tables.sig(latest["champion_latency_p95"], 3))
        k2.metric("Challenger p95 (ms)", tables.sig(latest["challenger_latency_p95"], 3))
        frame = loop_charts.shadow_latency_frame(
            data_loop.shadow_traffic(ctx.url, model_id, start))
        if frame.empty:
            st.caption("No shadow traffic in this range (traffic_hourly).")
        else:
            st.altair_chart(loop_charts.shadow_latency_chart(frame), width="stretch")


def _promote_forms(ctx: ui.Context, model: str, champion: str | None,
                   challenger: str | None, previous: str | None,
                   latest: pd.Series | None) -> None:
    st.subheader("Actions")
    if not forms.actions_allowed(ctx):
        return
    left, right = st.columns(2)
    with left, st.form("promote_form"):
        st.markdown(f"**Promote the challenger** (v{challenger} -> champion, replacing "
                    f"v{champion})" if challenger else "**Promote the challenger** (none now)")
        decided = (latest is not None and latest["decision"] == PROMOTE
                   and str(latest["challenger_version"]) == str(challenger))
        if latest is not None and str(latest["challenger_version"]) == str(challenger):
            ci = loop_tables.interval(latest["delta"], latest["ci_low"], latest["ci_high"])
            st.caption(f"Latest evaluation #{int(latest['id'])}: {latest['decision']}, "
                       f"{int(latest['n_paired']):,} pairs, delta {ci}")
        else:
            st.caption("No evaluation of this challenger against the champion yet.")
        reason = st.text_input(
            "Reason" + ("" if decided else " (required: the gate did not decide PROMOTE)"),
            key="promote_reason")
        actor, token, confirmed = forms.admin_inputs("promote")
        if st.form_submit_button("Promote", disabled=challenger is None):
            forms.perform(lambda: actions_loop.promote_challenger(
                data.engine(ctx.url), ctx.settings, model, expected=challenger, reason=reason,
                actor=actor, token=token, admin_token=ctx.settings.admin_token,
                confirmed=confirmed))
    with right, st.form("rollback_form"):
        st.markdown(f"**Roll back** (serve v{previous} again instead of v{champion})"
                    if previous else "**Roll back** (no previous champion)")
        reason_rb = st.text_input("Reason", key="rollback_reason")
        actor_rb, token_rb, confirmed_rb = forms.admin_inputs("rollback")
        if st.form_submit_button("Roll back", disabled=previous is None):
            forms.perform(lambda: actions_loop.rollback_champion(
                data.engine(ctx.url), ctx.settings, model, reason=reason_rb, actor=actor_rb,
                token=token_rb, admin_token=ctx.settings.admin_token,
                confirmed=confirmed_rb))


def render() -> None:
    page = ui.open_page("Shadow & promotions")
    if page is None:
        return
    ctx, models = page
    forms.flash()
    forms.clear_admin_inputs()
    c1, c2 = st.columns(2)
    with c1:
        model_id, model = ui.pick_model(models, "shadow_model")
    with c2:
        range_label, _, start = ui.pick_range("shadow_range", "30 days")
    view = registry_view.registry_view(ctx.settings.mlflow_tracking_uri, tuple(models["name"]))
    registry_view.notice(view)
    evals = data_loop.evaluations(ctx.url, model_id, start)
    champion, challenger = _pair(view, model, evals)
    prev = view.alias(model, PREVIOUS)
    previous = None if prev is None else prev.version
    st.markdown(f"Champion **{'v' + champion if champion else 'none'}** · challenger "
                f"**{'v' + challenger if challenger else 'none'}**"
                + (f" · previous v{previous}" if previous else ""))
    pair = evals[(evals["challenger_version"] == challenger)
                 & (evals["champion_version"] == champion)] if challenger else evals.iloc[0:0]
    latest = pair.iloc[-1] if len(pair) else None
    if evals.empty:
        st.info(NO_EVALUATION.format(model=model, range=range_label))
    elif latest is None:
        st.info(f"No evaluation of the current challenger against the champion in the last "
                f"{range_label}; earlier challengers are listed below.")
    else:
        st.subheader(f"v{challenger} against v{champion} on shared labelled requests")
        _decision(latest)
        st.altair_chart(loop_charts.delta_chart(pair, str(latest["metric"] or "metric")),
                        width="stretch")
        st.caption(f"Each point is one look of the shadow evaluation; the band is the "
                   f"{loop_tables.level(latest['confidence'])}interval of the delta, "
                   "narrowing as labelled pairs accumulate.")
        _shared_traffic(ctx, model_id, start, pair)
        st.markdown("**Guardrails (latest look)**")
        st.dataframe(charts.style_status(loop_tables.guardrails_table(latest["guardrails"])),
                     hide_index=True, width="stretch")
    if not evals.empty:
        with st.expander(f"Every evaluation in range ({len(evals)})"):
            st.dataframe(charts.style_status(loop_tables.evaluations_table(evals)),
                         hide_index=True, width="stretch")
    st.subheader("Promotions and rollbacks")
    moves = data_loop.promotions(ctx.url, start, model_id)
    if moves.empty:
        st.caption(f"No promotion or rollback of {model} in the last {range_label}.")
    else:
        st.dataframe(charts.style_status(loop_tables.promotions_table(moves)),
                     hide_index=True, width="stretch")
    _promote_forms(ctx, model, champion, challenger, previous, latest)
