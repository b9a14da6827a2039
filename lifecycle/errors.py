"""A small exception tree.

Every error a user can cause subclasses :class:`LifecycleError` *and* the built-in it
specialises (``ValueError``, ``LookupError``, ...), so ``except ValueError`` keeps working.
Messages name the problem and the fix.
"""

from __future__ import annotations


class LifecycleError(Exception):
    """Base class of every error raised on purpose by lifecycle."""


class ConfigError(LifecycleError, ValueError):
    """A setting is missing or invalid. The message names the key, the value and what is allowed."""


class DatabaseError(LifecycleError, RuntimeError):
    """The database cannot be reached or refused an operation."""


class DatabaseURLError(DatabaseError, ValueError):
    """The database URL cannot be parsed or names an unsupported backend."""


class SchemaOutOfDateError(DatabaseError):
    """The database schema is not at the revision this version of lifecycle needs."""


class UnknownModelError(LifecycleError, LookupError):
    """A model name is not registered or configured."""


class DataError(LifecycleError, ValueError):
    """Input data cannot be used as given (empty window, missing column, wrong type...)."""


class InsufficientDataError(DataError):
    """There are fewer rows than the minimum needed for a trustworthy answer."""


class LeaseHeldError(LifecycleError, RuntimeError):
    """Another process holds the lease for this unit of work."""


class RegistryError(LifecycleError, RuntimeError):
    """The model registry (MLflow) refused an operation, or a version or alias is not there."""


class RegistryUnavailableError(RegistryError):
    """The MLflow tracking store cannot be reached (server down, bad URI, unwritable folder)."""


class TrainerError(LifecycleError, ValueError):
    """A configured trainer or data loader cannot be imported, has the wrong signature, or
    returned something that cannot be used (not fitted, cannot be logged)."""


class ModelMismatchError(LifecycleError, ValueError):
    """A model contradicts its ``[models.NAME]`` section: another task, or other features."""


class NoChampionError(RegistryError, LookupError):
    """A model served by :class:`lifecycle.ManagedModel` has no ``champion`` alias (or no
    registered versions at all) in the model registry."""


class NoChallengerError(RegistryError, LookupError):
    """A shadow evaluation was asked for a model with no ``challenger`` (or no ``champion``)
    alias: there is nothing to compare."""


class PromotionRefusedError(LifecycleError, ValueError):
    """A manual promotion the shadow evaluation did not decide, without a ``--reason``."""


class ShadowInputsMissingError(DataError):
    """A challenger scored later from the log needs input columns the log does not hold as
    served (redacted, or hashed), so only live shadowing can score it."""


class ComputeError(LifecycleError, ConnectionError):
    """The Dask cluster of ``[compute] dask_scheduler`` cannot be reached (docs/scale.md)."""
