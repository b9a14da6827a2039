"""``lifecycle register``: adopt the model already in production into the model registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lifecycle.cli._common import default_actor, get_settings, open_registry
from lifecycle.registry.base import PREVIOUS, TAG_PREFIX
from lifecycle.states import CHALLENGER, CHAMPION

if TYPE_CHECKING:
    from lifecycle.config import Settings
    from lifecycle.registry.base import Registry, VersionInfo

#: Suffixes ``--from-file`` reads.
FILE_SUFFIXES = (".joblib", ".pkl", ".skops")


@click.command("register")
@click.argument("model")
@click.option("--from-run", "run_id", default=None, metavar="RUN_ID",
              help="Register the model logged by this MLflow run.")
@click.option("--from-file", "file", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Log and register a scikit-learn model saved as .joblib, .pkl or .skops.")
@click.option("--from-uri", "uri", default=None, metavar="URI",
              help="Register this model source (models:/..., runs:/..., or a storage URI).")
@click.option("--artifact-path", default="model", show_default=True,
              help="With --from-run: the name the model was logged under in the run.")
@click.option("--alias", type=click.Choice([CHAMPION, CHALLENGER]), default=None,
              help="Point this alias at the new version (champion: the old champion becomes "
                   "'previous').")
@click.option("--trust", is_flag=True,
              help="With a .skops file: load the types skops does not trust by default.")
@click.option("--actor", default=None, help="Who registers (default: the OS user).")
@click.pass_context
def register_cmd(ctx: click.Context, model: str, run_id: str | None, file: Path | None,
                 uri: str | None, artifact_path: str, alias: str | None, trust: bool,
                 actor: str | None) -> None:
    """Register MODEL's current model (from a run, a file or a URI) as a new version.

    The model is refused, and nothing is registered, when its task or features contradict
    [models.MODEL] in lifecycle.toml.
    """
    from lifecycle.registry.adopt import check_fits, describe

    given = [flag for flag, value in (("--from-run", run_id), ("--from-file", file),
                                      ("--from-uri", uri)) if value]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --from-run, --from-file, --from-uri")
    settings = get_settings(ctx)
    if model not in settings.models:
        click.echo(f"note: {model!r} has no [models.{model}] section in lifecycle.toml; its "
                   "task and features are not checked", err=True)
    who = actor or default_actor()
    registry = open_registry(settings)
    if file is not None:
        obj = _load_file(file, trust=trust)
        source = f"file:{file.resolve()}"
    else:
        source = uri or f"runs:/{run_id}/{artifact_path}"
        obj = registry.load_model(source)
    check_fits(model, describe(obj), settings.model(model))

    tags = {f"{TAG_PREFIX}source": source, f"{TAG_PREFIX}registered_by": who}
    if file is not None:
        with registry.start_run(f"lifecycle/{model}", f"register-{file.stem}",
                                tags=tags) as run:
            logged = run.log_model(obj, input_example=None)
        version = registry.register(model, logged, run_id=run.run_id, tags=tags)
    else:
        version = registry.register(model, source, run_id=None, tags=tags)
    previous = _move_alias(registry, version, alias)
    _echo(version, alias, previous)
    note = _audit(settings, who, version, source, alias, previous)
    if note:
        click.echo(note, err=True)


def _load_file(path: Path, *, trust: bool) -> Any:
    from lifecycle.errors import TrainerError

    suffix = path.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise click.BadParameter(
            f"{path.name}: expected a {', '.join(FILE_SUFFIXES)} file", param_hint="--from-file")
    try:
        if suffix == ".skops":
            import skops.io

            untrusted = skops.io.get_untrusted_types(file=path)
            if untrusted and not trust:
                raise click.ClickException(
                    f"{path.name} contains types skops does not trust: {', '.join(untrusted)}; "
                    "check them, then rerun with --trust to load them")
            return skops.io.load(path, trusted=untrusted or None)
        import joblib

        return joblib.load(path)
    except click.ClickException:
        raise
    except Exception as exc:
        raise TrainerError(f"cannot load {path}: {exc}; save the model with joblib.dump or "
                           "skops.io.dump in an environment with the same packages") from exc


def _move_alias(registry: Registry, version: VersionInfo, alias: str | None) -> str | None:
    """Point ``alias`` at ``version``; for champion, record the old one as ``previous``
    first (a crash in between leaves previous = champion, never a lost champion)."""
    if alias is None:
        return None
    old = registry.by_alias(version.name, alias) if alias == CHAMPION else None
    if old is not None and old.version != version.version:
        registry.set_alias(version.name, PREVIOUS, old.version)
    registry.set_alias(version.name, alias, version.version)
    return None if old is None else old.version


def _echo(version: VersionInfo, alias: str | None, previous: str | None) -> None:
    click.echo(f"registered {version.name} version {version.version}")
    click.echo(f"  run id: {version.run_id or '-'}")
    click.echo(f"  uri:    {version.uri}")
    if alias is None:
        click.echo("  alias:  -")
    else:
        was = f" (previous: version {previous})" if previous else ""
        click.echo(f"  alias:  {alias}{was}")


def _audit(settings: Settings, actor: str, version: VersionInfo, source: str,
           alias: str | None, previous: str | None) -> str | None:
    """Write the audit row when the lifecycle database is reachable; else return a note."""
    from sqlalchemy.exc import SQLAlchemyError

    from lifecycle.cli._common import open_engine
    from lifecycle.errors import LifecycleError
    from lifecycle.storage.audit import write_audit
    from lifecycle.storage.types import utcnow

    try:
        engine = open_engine(settings)
    except (LifecycleError, SQLAlchemyError) as exc:
        return f"note: no audit row written (the lifecycle database is not ready: {exc})"
    try:
        write_audit(engine, actor=actor, action="model.register", target=version.uri,
                    now=utcnow(), model=version.name,
                    details={"source": source, "run_id": version.run_id, "alias": alias,
                             "previous": previous})
    except SQLAlchemyError as exc:
        return f"note: no audit row written ({type(exc).__name__}: {exc})"
    finally:
        engine.dispose()
    return None


def register(main: click.Group) -> None:
    main.add_command(register_cmd)
