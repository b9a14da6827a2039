"""Settings: defaults, file + environment precedence, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.config import load_settings
from lifecycle.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lifecycle.toml"
    path.write_text(text)
    return path


def test_defaults_live_in_home(tmp_path: Path) -> None:
    s = load_settings(env={}, cwd=tmp_path)
    assert s.home == tmp_path / ".lifecycle"
    assert s.database_url == f"sqlite:///{tmp_path / '.lifecycle' / 'lifecycle.db'}"
    assert s.mlflow_tracking_uri == f"sqlite:///{tmp_path / '.lifecycle' / 'mlflow.db'}"
    assert s.dashboard.host == "127.0.0.1" and s.dashboard.port == 8501
    assert s.capture.spill_dir == tmp_path / ".lifecycle" / "spill"
    assert s.models == {}
    assert s.admin_token is None


def test_file_found_in_working_directory(tmp_path: Path) -> None:
    write(tmp_path, 'home = "data"\n[models.churn]\ntask = "classification"\n'
                    'features = ["age", "plan"]\ncategorical = ["plan"]\n')
    s = load_settings(env={}, cwd=tmp_path)
    assert s.home == tmp_path / "data"
    assert s.config_path == tmp_path / "lifecycle.toml"
    churn = s.models["churn"]
    assert churn.task == "classification"
    assert churn.features == ("age", "plan") and churn.categorical == ("plan",)
    assert s.model("other").name == "other"


def test_environment_overrides_file(tmp_path: Path) -> None:
    write(tmp_path, 'database_url = "sqlite:///from-file.db"\n'
                    'mlflow_tracking_uri = "sqlite:///mlflow-file.db"\n[dashboard]\nport = 9000\n')
    env = {
        "LIFECYCLE_DATABASE_URL": "postgresql://u:secret@db:5432/prod",
        "MLFLOW_TRACKING_URI": "http://mlflow:5000",
        "LIFECYCLE_DASHBOARD_PORT": "8600",
        "LIFECYCLE_ADMIN_TOKEN": "tok-0123456789abcdef",
    }
    s = load_settings(env=env, cwd=tmp_path)
    assert s.database_url == "postgresql://u:secret@db:5432/prod"
    assert s.mlflow_tracking_uri == "http://mlflow:5000"
    assert s.dashboard.port == 8600
    assert s.admin_token == "tok-0123456789abcdef"
    env["LIFECYCLE_MLFLOW_TRACKING_URI"] = "sqlite:///explicit.db"
    assert load_settings(env=env, cwd=tmp_path).mlflow_tracking_uri == "sqlite:///explicit.db"


def test_lifecycle_config_names_the_file(tmp_path: Path) -> None:
    other = tmp_path / "conf" / "prod.toml"
    other.parent.mkdir()
    other.write_text('home = "/srv/lifecycle"\n')
    s = load_settings(env={"LIFECYCLE_CONFIG": str(other)}, cwd=tmp_path)
    assert s.home == Path("/srv/lifecycle")
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(env={"LIFECYCLE_CONFIG": str(tmp_path / "missing.toml")}, cwd=tmp_path)


@pytest.mark.parametrize(
    ("text", "env", "match"),
    [
        ("this is = not [toml", {}, "not valid TOML"),
        ('unknown_key = 1\n', {}, r"unknown key\(s\) unknown_key"),
        ('database_url = "mysql://x/y"\n', {}, "unsupported database backend 'mysql'"),
        ("", {"LIFECYCLE_DATABASE_URL": "not a url"}, "cannot parse database URL"),
        ("", {"LIFECYCLE_DATABASE_URL": "postgresql://host"}, "names no database"),
        ("[dashboard]\nport = 70000\n", {}, "dashboard.port must be an integer 1-65535"),
        ("", {"LIFECYCLE_DASHBOARD_PORT": "http"}, "dashboard.port"),
        ("[capture]\nflush_interval_s = 0\n", {}, r"capture.flush_interval_s = 0"),
        ("[capture]\nbatch_size = 'big'\n", {}, "capture.batch_size must be an integer"),
        ('[models.churn]\ntask = "ranking"\n', {}, "models.churn.task = 'ranking'"),
        ('[models.churn]\ntrainer = "pkg.mod:train"\n', {},
         r"models.churn.trainer has moved: set it as \[models.churn.retrain\] "
         r"trainer = 'pkg.mod:train'"),
        ('[models.churn]\nfeatures = ["a"]\ncategorical = ["b"]\n', {},
         "models.churn.categorical"),
        ('[models.churn]\nfeaturez = ["a"]\n', {}, "models.churn.featurez"),
        ('[models.churn]\nid_column = "id"\nfeatures = ["id", "a"]\n', {},
         r"models.churn.features lists \['id'\].*never drift features"),
        ('[models.churn]\ntimestamp_columns = ["t"]\nfeatures = ["t"]\n', {},
         r"models.churn.features lists \['t'\]"),
        ('[models.churn]\nidentifier_columns = "acc"\n', {},
         "models.churn.identifier_columns must be a list of strings"),
        ('models = 3\n', {}, r"\[models\] must be a table"),
        ('[scheduler]\nwebhook_url = "ftp://x"\n', {}, "scheduler.webhook_url"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, env: dict[str, str],
                                 match: str) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError, match=match):
        load_settings(env=env, cwd=tmp_path)


def test_config_error_is_a_value_error(tmp_path: Path) -> None:
    write(tmp_path, "[dashboard]\nport = -1\n")
    with pytest.raises(ValueError):
        load_settings(env={}, cwd=tmp_path)


@pytest.mark.parametrize("where", ["env", "file"])
def test_short_admin_token_is_refused_with_the_fix(tmp_path: Path, where: str) -> None:
    short = "hunter2-abc"  # 11 characters
    env = {"LIFECYCLE_ADMIN_TOKEN": short} if where == "env" else {}
    if where == "file":
        write(tmp_path, f'admin_token = "{short}"\n')
    key = "LIFECYCLE_ADMIN_TOKEN" if where == "env" else "admin_token"
    with pytest.raises(ConfigError, match=f"{key} is too short") as info:
        load_settings(env=env, cwd=tmp_path)
    message = str(info.value)
    assert "at least 16" in message and "secrets.token_urlsafe(24)" in message
    assert short not in message  # the refused token is never echoed
    ok = "x" * 16
    assert load_settings(env={"LIFECYCLE_ADMIN_TOKEN": ok}, cwd=tmp_path).admin_token == ok


def test_model_feature_importances_table(tmp_path: Path) -> None:
    write(tmp_path, "[models.churn]\nfeature_importances = {age = 0.3, plan = 1, tenure = 0}\n")
    churn = load_settings(env={}, cwd=tmp_path).models["churn"]
    assert churn.feature_importances == (("age", 0.3), ("plan", 1.0), ("tenure", 0.0))
    assert load_settings(env={}, cwd=tmp_path).model("other").feature_importances is None


@pytest.mark.parametrize(("value", "named"), [
    ("{age = -0.1}", "models.churn.feature_importances.age = -0.1"),
    ('{age = "high"}', "models.churn.feature_importances.age = 'high'"),
    ("{age = true}", "models.churn.feature_importances.age = True"),
    ("{age = nan}", "models.churn.feature_importances.age = nan"),
    ("[0.3, 0.7]", "models.churn.feature_importances must be a non-empty table"),
    ("{}", "models.churn.feature_importances must be a non-empty table"),
])
def test_bad_feature_importances_name_the_key(tmp_path: Path, value: str, named: str) -> None:
    write(tmp_path, f"[models.churn]\nfeature_importances = {value}\n")
    with pytest.raises(ConfigError) as err:
        load_settings(env={}, cwd=tmp_path)
    assert named in str(err.value)
