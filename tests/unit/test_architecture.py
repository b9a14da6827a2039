"""Architecture rules: the core stays pure, imports are side-effect free, the import graph of
our own modules has no circle and never reaches up a layer."""

from __future__ import annotations

import ast
import importlib.util
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import lifecycle

ROOT = Path(__file__).resolve().parents[2]
PURE_PACKAGES = ["lifecycle.drift", "lifecycle.performance", "lifecycle.detectors",
                 "lifecycle.evaluation"]
PURE_MODULES = ["lifecycle.errors", "lifecycle.states", "lifecycle.windows"]
FORBIDDEN = ["sqlalchemy", "mlflow", "apscheduler", "streamlit", "pandas", "pyarrow",
             "sklearn", "psycopg", "alembic"]

#: Layers, lowest first. A module may import modules of its own layer or of lower ones,
#: never of a higher one (the longest matching prefix decides a module's layer).
LAYERS: list[tuple[str, list[str]]] = [
    ("vocabulary", ["lifecycle", "lifecycle.errors", "lifecycle.states", "lifecycle.windows",
                    "lifecycle.files"]),
    ("pure core", PURE_PACKAGES),
    ("settings", ["lifecycle.config"]),
    ("storage", ["lifecycle.storage", "lifecycle.registry"]),
    ("capture and the pandas edge", ["lifecycle.capture", "lifecycle.drift_check",
                                     "lifecycle.window_frames", "lifecycle.training",
                                     "lifecycle.reference", "lifecycle.compute",
                                     "lifecycle.rollup"]),
    ("alerts", ["lifecycle.alerts"]),
    ("serving", ["lifecycle.serving"]),
    ("jobs", ["lifecycle.jobs"]),
    ("applications", ["lifecycle.cli", "lifecycle.dashboard", "lifecycle.demo",
                      "lifecycle.seed", "lifecycle.testing"]),
]
#: What the dashboard may use of the job machinery: asking for work, never running it; and
#: the two fast state changes people make from it, through the very functions the CLI calls
#: (never a copy): moving the champion alias (promote.py: promote, rollback; an intent row and
#: a few registry writes) and queueing a retrain (retrain_trigger.py: request_retrain; the
#: cooldown guard and a job_requests row; the retrain itself runs in a scheduler process);
#: and the read-only lineage of a version (lineage.py: version_lineage, which `lifecycle
#: lineage` prints and the Lineage page renders).
DASHBOARD_MAY_IMPORT_FROM_JOBS = {"lifecycle.jobs.queue", "lifecycle.jobs.plan",
                                  "lifecycle.jobs.promote", "lifecycle.jobs.retrain_trigger",
                                  "lifecycle.jobs.lineage"}


def _source_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in [*ROOT.glob("lifecycle/**/*.py"), *ROOT.glob("dashboard/**/*.py")]:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts[0] == "dashboard":  # the folder installs as lifecycle.dashboard
            parts.insert(0, "lifecycle")
        found[".".join(parts)] = path
    return found


def _imports(path: Path, known: dict[str, Path]) -> list[tuple[str, int]]:
    """Our modules imported by ``path`` anywhere in it (top level or inside functions)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names if alias.name in known]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # ``from pkg import submodule`` imports the submodule
                full = f"{node.module}.{alias.name}"
                target = full if full in known else node.module
                if target in known:
                    out.append((target, node.lineno))
    return out


def _layer(module: str) -> int | None:
    best: tuple[int, int] | None = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            inside = module == prefix or (prefix != "lifecycle"  # the root is one module
                                          and module.startswith(prefix + "."))
            if inside and (best is None or len(prefix) > best[1]):
                best = (rank, len(prefix))
    return None if best is None else best[0]


def _graph() -> dict[str, set[str]]:
    known = _source_modules()
    graph: dict[str, set[str]] = {m: set() for m in known}
    for module, path in known.items():
        for target, _ in _imports(path, known):
            # importing a submodule runs its parents' __init__: not a dependency to count
            if target != module and not module.startswith(target + "."):
                graph[module].add(target)
    return graph


def test_layers_and_listed_modules_exist() -> None:
    known = _source_modules()
    for _, prefixes in LAYERS:
        for prefix in prefixes:
            assert prefix in known, f"LAYERS lists {prefix}, which does not exist"
    for module in [*PURE_MODULES, *DASHBOARD_MAY_IMPORT_FROM_JOBS]:
        assert module in known, f"{module} is listed but does not exist"
    unranked = sorted(m for m in known if _layer(m) is None)
    assert unranked == [], f"modules in no layer (add them to LAYERS): {unranked}"


def test_no_import_reaches_a_higher_layer() -> None:
    known = _source_modules()
    upward = []
    for module, path in known.items():
        for target, line in _imports(path, known):
            low, high = _layer(module), _layer(target)
            assert low is not None and high is not None
            if high > low:
                upward.append(f"{path.relative_to(ROOT)}:{line} {module} ({LAYERS[low][0]}) "
                              f"imports {target} ({LAYERS[high][0]})")
    assert upward == []


def test_dashboard_imports_no_job_internals() -> None:
    known = _source_modules()
    internal = sorted(
        f"{module} imports {target}"
        for module, path in known.items() if module.startswith("lifecycle.dashboard")
        for target, _ in _imports(path, known)
        if target.startswith("lifecycle.jobs") and target not in DASHBOARD_MAY_IMPORT_FROM_JOBS
    )
    assert internal == []


def test_import_graph_has_no_circle() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert circles == []


def test_the_graph_checks_see_function_local_imports(tmp_path: Path) -> None:
    """The checks are only as good as the parser: a local import must count."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from lifecycle.jobs.runner import execute\n")
    known = {"lifecycle.jobs.runner": module}
    assert _imports(module, known) == [("lifecycle.jobs.runner", 2)]


def _pure_modules() -> list[str]:
    names = list(PURE_MODULES)
    for package in PURE_PACKAGES:
        names.append(package)
        pkg = importlib.import_module(package)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
            names.append(info.name)
    return names


def _modules_loaded_by(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        check=True, capture_output=True, text=True,
    ).stdout
    return {m.split(".")[0] for m in json.loads(out.strip().splitlines()[-1])}


def test_pure_core_imports_no_io_library() -> None:
    modules = _pure_modules()
    assert "lifecycle.errors" in modules and "lifecycle.drift.ks" in modules
    code = "\n".join(f"import {m}" for m in modules)
    loaded = _modules_loaded_by(code)
    leaked = sorted(set(FORBIDDEN) & loaded)
    assert leaked == [], f"pure core pulled in {leaked} (modules: {modules})"


def test_import_lifecycle_is_light() -> None:
    loaded = _modules_loaded_by("import lifecycle")
    assert sorted(set(FORBIDDEN) & loaded) == []


def test_public_names_resolve() -> None:
    for name in lifecycle.__all__:
        assert getattr(lifecycle, name) is not None, name


def test_public_names_are_pinned() -> None:
    """Adding or removing a public name is a deliberate change: update this list with it."""
    assert lifecycle.__all__ == [
        "__version__",
        "ManagedModel",
        "Settings",
        "capture_context",
        "check_drift",
        "configure",
        "flush",
        "last_prediction_ids",
        "load_settings",
        "log_outcomes",
        "log_shadow",
        "monitor",
        "retrain",
        "run_window",
        "stats",
    ]
