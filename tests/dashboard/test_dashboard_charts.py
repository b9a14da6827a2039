"""Pure chart builders: no Streamlit, no database."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.dashboard import charts, tables


def test_charts_module_makes_no_streamlit_calls() -> None:
    tree = ast.parse(Path(charts.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)
                for a in n.names} | {n.module for n in ast.walk(tree)
                                     if isinstance(n, ast.ImportFrom)}
    assert "streamlit" not in imported


@pytest.mark.parametrize(("verdict", "level"), [
    ("drift", "bad"), ("degraded", "bad"), ("failed", "bad"), ("open", "bad"),
    ("warning", "warn"), ("acknowledged", "warn"), ("no_drift", "ok"), ("ok", "ok"),
    ("insufficient_data", "none"), (None, "none"), (float("nan"), "none"),
    # job-run statuses as the runner writes them
    ("done", "ok"), ("lost", "bad"), ("fine", "ok"), ("insufficient labels", "none"),
])
def test_status_levels_are_red_only_when_a_person_is_needed(verdict: object,
                                                            level: str) -> None:
    assert charts.status_level(verdict) == level  # type: ignore[arg-type]


def test_status_labels_and_badges() -> None:
    assert charts.status_label("no_drift") == "● no drift"
    assert charts.status_label(None) == "– none yet"
    assert charts.status_badge("drift") == ":red-badge[drift]"
    assert charts.status_badge("warning") == ":orange-badge[warning]"
    assert charts.worst(["no_drift", "warning", "drift"]) == "drift"
    styled = charts.style_status(pd.DataFrame({"s": ["● drift", "● no drift", "x"],
                                               "n": ["● 2 open", "0", "1"]}))
    html = styled.to_html()
    assert charts.RED in html and charts.GREEN in html
    # counts before or after the verdict do not change its colour
    css = charts._label_css
    assert css("● drift 2/5") == css("● drift") and charts.RED in css("● drift 2/5")
    assert css("● no drift 0/5") == css("● no drift") and charts.GREEN in css("● no drift")
    assert css("● 2 open, 1 ack'd") == css("● 2 open") and charts.RED in css("● 2 open")
    assert css("1 ack'd") == ""


def test_overview_table_merges_counts_into_their_status() -> None:
    df = pd.DataFrame({
        "model": ["a", "b", "c"], "versions": ["champion v1", "", "unmanaged"],
        "predictions": [1, 2, 3], "latency_call_ms": [1.0, None, 2.0],
        "latency_row_ms": [0.5, None, 2.0], "label_coverage": [0.5, None, 1.0],
        "data_drift": ["drift", None, "no_drift"], "drifted_features": ["2/5", None, "0/3"],
        "prediction_drift": [None, None, "no_drift"], "performance": ["ok", None, None],
        "open_alerts": [2, 0, 0], "acknowledged_alerts": [1, 0, 3]})
    table = tables.overview_table(df)
    assert table["data drift"].tolist() == ["● drift 2/5", "– none yet", "● no drift 0/3"]
    assert table["alerts"].tolist() == ["● 2 open, 1 ack'd", "0", "3 ack'd"]
    assert table["versions"].tolist() == ["champion v1", "-", "unmanaged"]


def test_versions_grouped_per_role() -> None:
    from lifecycle.dashboard.data import versions_text

    assert versions_text({("champion", "1"), ("champion", "v2"), ("challenger", "3"),
                          ("champion", "10")}) == "champion v1, v2, v10; challenger v3"
    assert versions_text({("unmanaged", ""), ("shadow", "x")}) == "unmanaged; shadow x"


def test_distribution_frame_numeric_bins_with_missing_bucket() -> None:
    details = {"bin_edges": [1.0, 2.0], "reference_counts": [10, 20, 10, 0],
               "current_counts": [5, 5, 30, 10]}
    frame = charts.distribution_frame(details)
    assert frame is not None
    ref = frame[frame["side"] == "reference"]
    assert ref["bucket"].tolist() == ["< 1", "[1, 2)", "≥ 2", "missing"]
    assert ref["share"].tolist() == pytest.approx([0.25, 0.5, 0.25, 0.0])
    cur = frame[frame["side"] == "current"]
    assert cur["share"].sum() == pytest.approx(1.0)
    assert cur["count"].tolist() == [5, 5, 30, 10]
    spec = charts.distribution_chart(frame).to_dict()
    assert spec["mark"]["type"] == "bar"


def test_distribution_frame_categories_and_graceful_degradation() -> None:
    details = {"categories": ["a", "b", "__unseen__", "__missing__"],
               "reference_counts": [5, 5, 0, 0], "current_counts": [1, 6, 2, 1]}
    frame = charts.distribution_frame(details)
    assert frame is not None
    assert frame["bucket"].unique().tolist() == ["a", "b", "unseen", "missing"]
    assert charts.distribution_frame({}) is None
    assert charts.distribution_frame(None) is None
    assert charts.distribution_frame({"reference_counts": [1, 2], "current_counts": [1]}) is None
    odd = charts.distribution_frame({"bin_edges": [1.0], "reference_counts": [1, 2, 3, 4, 5],
                                     "current_counts": [1, 1, 1, 1, 1]})
    assert odd is not None and odd["bucket"].iloc[0] == "bin 0"


def _matrix(n_windows: int) -> pd.DataFrame:
    end = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(n_windows):
        we = end + timedelta(hours=i)
        for feature in ("a", "b"):
            verdict = "drift" if (feature == "a" and i == n_windows - 1) else "no_drift"
            rows.append({"report_id": i, "window_end": we, "feature": feature,
                         "statistic_name": "psi", "statistic": 0.01 * i, "verdict": verdict})
            rows.append({"report_id": i, "window_end": we, "feature": feature,
                         "statistic_name": "ks", "statistic": 0.5, "verdict": "no_drift"})
    return pd.DataFrame(rows)


def test_heatmap_frame_one_cell_per_window_and_feature() -> None:
    matrix = _matrix(10)
    assert charts.heatmap_statistic(["ks", "psi"]) == "psi"
    assert charts.heatmap_statistic(["custom"]) == "custom"
    frame = charts.heatmap_frame(matrix, "psi")
    assert len(frame) == 20
    last_a = frame[(frame["feature"] == "a")].iloc[-1]
    assert last_a["verdict"] == "drift" and last_a["value"] == pytest.approx(0.09)
    assert (frame["window_end"] - frame["window_start"]).eq(pd.Timedelta(hours=1)).all()
    assert charts.features_by_severity(matrix) == ["a", "b"]
    spec = charts.drift_heatmap(frame, "psi").to_dict()
    assert len(spec["layer"]) == 3  # assessed cells, insufficient-data cells, verdict dots


def test_heatmap_frame_merges_many_windows_per_day() -> None:
    frame = charts.heatmap_frame(_matrix(24 * 30), "psi", max_windows=400)
    assert len(frame) <= 2 * 31
    assert "drift" in frame["verdict"].tolist()
    assert charts.heatmap_frame(pd.DataFrame(), "psi").empty


def test_traffic_frame_sums_roles_and_resamples() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    df = pd.DataFrame([
        {"model": "m", "role": "champion", "bucket_start": t0, "n_predictions": 10,
         "n_calls": 10, "call_latency_sum_ms": 100.0},
        {"model": "m", "role": "unmanaged", "bucket_start": t0, "n_predictions": 10,
         "n_calls": 1, "call_latency_sum_ms": 30.0},
        {"model": "m", "role": "challenger", "bucket_start": t0, "n_predictions": 10,
         "n_calls": 10, "call_latency_sum_ms": 900.0},
        {"model": "m", "role": "champion", "bucket_start": t0 + timedelta(hours=1),
         "n_predictions": 0, "n_calls": 0, "call_latency_sum_ms": 0.0},
    ])
    assert charts.traffic_frame(df, "h", roles=None)["n_predictions"].tolist() == [30, 0]
    hourly = charts.traffic_frame(df, "h")
    assert hourly["n_predictions"].tolist() == [20, 0]
    # 11 calls took 130 ms: 11.8 ms per call, 6.5 ms per prediction
    assert hourly["latency_call_ms"].iloc[0] == pytest.approx(130.0 / 11)
    assert hourly["latency_row_ms"].iloc[0] == pytest.approx(130.0 / 20)
    assert pd.isna(hourly["latency_call_ms"].iloc[1])
    daily = charts.traffic_frame(df, "D")
    assert daily["n_predictions"].tolist() == [20]
    assert charts.choose_freq(24 * 7) == "h" and charts.choose_freq(24 * 90) == "D"
    assert charts.volume_chart(hourly).to_dict()["mark"]["type"] == "line"
    assert charts.latency_chart(hourly).to_dict()["encoding"]["y"]["field"] == (
        "latency_call_ms")


def test_one_big_call_does_not_dominate_latency() -> None:
    """An hour with one 200,000-row call of 900 ms and 1,000 single-row calls of 10 ms:
    per call 10.9 ms (the row-weighted mean was 896 ms), per prediction 0.094 ms."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    df = pd.DataFrame([{"model": "m", "role": "champion", "bucket_start": t0,
                        "n_predictions": 201_000, "n_calls": 1_001,
                        "call_latency_sum_ms": 900.0 + 1_000 * 10.0,
                        "latency_sum_ms": 200_000 * 900.0 + 1_000 * 10.0}])
    frame = charts.traffic_frame(df)
    assert frame["latency_call_ms"].item() == pytest.approx(10_900 / 1_001)
    assert frame["latency_row_ms"].item() == pytest.approx(10_900 / 201_000)


def test_hours_before_calls_were_counted_are_left_out_of_latency() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    df = pd.DataFrame([
        {"model": "m", "role": "champion", "bucket_start": t0, "n_predictions": 50,
         "n_calls": 0, "call_latency_sum_ms": 0.0},  # written before revision 0004
        {"model": "m", "role": "champion", "bucket_start": t0 + timedelta(minutes=30),
         "n_predictions": 4, "n_calls": 2, "call_latency_sum_ms": 8.0},
    ])
    frame = charts.traffic_frame(df, "D")
    assert frame["n_predictions"].item() == 54
    assert frame["latency_call_ms"].item() == pytest.approx(4.0)
    assert frame["latency_row_ms"].item() == pytest.approx(2.0)


def test_version_labels_never_double_the_v() -> None:
    from lifecycle.dashboard.data import version_label

    assert version_label("champion", "2") == "champion v2"
    assert version_label("champion", "v1") == "champion v1"
    assert version_label("champion", "V1.3") == "champion v1.3"
    assert version_label("challenger", "prod-2024") == "challenger prod-2024"
    assert version_label("unmanaged", "") == "unmanaged"
    assert version_label("unmanaged", None) == "unmanaged"


def test_metric_chart_layers_band_line_reference_and_change_points() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    perf = pd.DataFrame([
        {"window_end": t0 + timedelta(hours=i), "metric": "accuracy", "kind": kind,
         "value": 0.9, "ci_low": 0.85, "ci_high": 0.95, "reference_value": 0.9,
         "verdict": "ok"} for i in range(3) for kind in ("realised", "estimated")])
    points = pd.DataFrame({"ts": [t0], "detector": ["ddm"], "stream_index": [5]})
    spec = charts.metric_chart(perf, points, "accuracy").to_dict()
    assert len(spec["layer"]) == 4
    spec = charts.metric_chart(perf, points.iloc[0:0], "accuracy").to_dict()
    assert len(spec["layer"]) == 3


def test_display_frame_formats_timestamps_as_utc_text() -> None:
    df = pd.DataFrame({"ts": pd.to_datetime(["2026-01-01T10:30:00+02:00"], utc=True),
                       "n": [1]})
    out = tables.display_frame(df)
    assert out["ts"].tolist() == ["2026-01-01 08:30"]
    assert out["n"].tolist() == [1]


def test_numbers_are_shown_to_four_significant_digits() -> None:
    assert tables.sig(6.123456e-42) == "6.123e-42"
    assert tables.sig(0.71754) == "0.7175"
    assert tables.sig(None) == "-" and tables.sig(float("nan")) == "-"


def _layers(spec: dict) -> list[dict]:  # type: ignore[type-arg]
    return list(spec["layer"])


def test_heatmap_features_in_natural_order_each_labelled() -> None:
    """x0, x1, x2, ..., x10 (not x0, x1, x10, x2), and every feature keeps its label."""
    end = datetime(2026, 1, 1, tzinfo=UTC)
    names = [f"x{i}" for i in range(25)]
    matrix = pd.DataFrame([{"window_end": end + timedelta(hours=h), "feature": f,
                            "statistic_name": "psi", "statistic": 0.01, "verdict": "no_drift"}
                           for h in range(3) for f in reversed(names)])
    assert charts.natural_sorted(["x10", "x2", "x1", "X3", "age"]) == [
        "age", "x1", "x2", "X3", "x10"]
    assert charts.features_by_severity(matrix) == names
    spec = charts.drift_heatmap(charts.heatmap_frame(matrix, "psi"), "psi").to_dict()
    rect = _layers(spec)[0]
    assert rect["encoding"]["y"]["sort"] == names
    assert rect["encoding"]["y"]["axis"]["labelOverlap"] is False
    # a row per feature: the chart grows with the features instead of hiding labels
    assert spec["height"] >= 20 * len(names)


def test_time_axes_use_a_24_hour_clock() -> None:
    spec = charts.drift_heatmap(charts.heatmap_frame(_matrix(5), "psi"), "psi").to_dict()
    fmt = _layers(spec)[0]["encoding"]["x"]["axis"]["format"]
    assert "%H" in fmt and "%I" not in fmt and "%p" not in fmt
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    traffic = charts.traffic_frame(pd.DataFrame([
        {"model": "m", "role": "champion", "bucket_start": t0, "n_predictions": 1,
         "n_calls": 1, "call_latency_sum_ms": 1.0}]))
    for chart in (charts.volume_chart(traffic), charts.latency_chart(traffic)):
        assert "%H" in chart.to_dict()["encoding"]["x"]["axis"]["format"]


def test_insufficient_data_windows_do_not_set_the_colour_scale() -> None:
    matrix = _matrix(6)
    # a 1-row window: an absurd statistic, verdict insufficient_data
    odd = (matrix["report_id"] == 5) & (matrix["feature"] == "b") & (
        matrix["statistic_name"] == "psi")
    matrix.loc[odd, ["statistic", "verdict"]] = [50.0, "insufficient_data"]
    frame = charts.heatmap_frame(matrix, "psi")
    cell = frame[(frame["feature"] == "b") & (frame["verdict"] == "insufficient_data")]
    assert len(cell) == 1 and cell["value"].item() == 50.0 and pd.isna(cell["shade"].item())
    assert charts.heatmap_domain(frame) == [0.0, pytest.approx(0.05)]
    spec = charts.drift_heatmap(frame, "psi").to_dict()
    assert _layers(spec)[0]["encoding"]["color"]["scale"]["domain"] == [0.0, 0.05]
    # the same when the windows are merged per day
    daily = charts.heatmap_frame(matrix.assign(
        window_end=pd.to_datetime(matrix["window_end"], utc=True)), "psi", max_windows=2)
    assert charts.heatmap_domain(daily) == [0.0, pytest.approx(0.05)]


@pytest.mark.parametrize(("seconds", "text"), [
    (0.4, "0 s"), (42, "42 s"), (59.4, "59 s"), (60, "1 min"), (720, "12 min"),
    (3599, "1.0 h"), (59.6, "1 min"), (3600, "1.0 h"), (3 * 3600 + 720, "3.2 h"),
    (47 * 3600, "47.0 h"),
    (2 * 86_400, "2.0 d"), (9 * 86_400, "9.0 d"), (None, "-"), (float("nan"), "-"),
])
def test_label_delay_in_its_natural_unit(seconds: object, text: str) -> None:
    from lifecycle.dashboard.ui import fmt_duration

    assert fmt_duration(seconds) == text
