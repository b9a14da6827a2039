"""Typed reads out of one TOML table, naming the full key (``models.churn.drift.alpha``) in
every error. Shared by every settings section."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import fields
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lifecycle.errors import ConfigError
from lifecycle.windows import parse_duration

#: How a secret value is shown in reprs, logs and messages.
MASK = "***"
_IMPORT_PATH_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def import_path_setting(value: Any, key: str) -> str:
    """``value`` when it looks like ``"package.module:function"``, else a ConfigError naming
    ``key``. Whether it imports is checked where it is used (at start, not at parse time)."""
    if not isinstance(value, str) or not _IMPORT_PATH_RE.match(value):
        raise ConfigError(f"{key} = {value!r} must look like 'package.module:function'")
    return value


def hide_uri_password(uri: str) -> str:
    """``scheme://user:***@host/...``: a URI with the password of its user part hidden.

    For any URI (MLflow tracking server, ...); database URLs go through
    :func:`lifecycle.config.database_url.redact_url`, which also hides ``?password=``.
    """
    try:
        parts = urlsplit(uri)
        password = parts.password
    except ValueError:
        return "<unparseable URI>"
    if not password:
        return uri
    user, _, host = parts.netloc.rpartition("@")
    name = user.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{name}:{MASK}@{host}"))


def masked_repr(obj: Any, secrets: Collection[str] = (),
                urls: Mapping[str, Callable[[str], str]] | None = None) -> str:
    """The dataclass repr of ``obj`` with the fields in ``secrets`` shown as ``'***'`` (when
    set) and the fields in ``urls`` passed through their redaction function."""
    shown = []
    for f in fields(obj):
        if not f.repr:
            continue
        value = getattr(obj, f.name)
        if f.name in secrets and value:
            text = repr(MASK)
        elif urls and f.name in urls and value:
            text = repr(urls[f.name](value))
        else:
            text = repr(value)
        shown.append(f"{f.name}={text}")
    return f"{type(obj).__name__}({', '.join(shown)})"


class Section:
    """Reads typed values out of one TOML table, naming the full key on error."""

    def __init__(self, data: Any, prefix: str, allowed: set[str] | None = None) -> None:
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"[{prefix}] must be a table, got {type(data).__name__} ({data!r})"
            )
        self.data = dict(data)
        self.prefix = prefix
        if allowed is not None:
            unknown = sorted(set(self.data) - allowed)
            if unknown:
                where = f"in [{prefix}]" if prefix else "at the top level"
                raise ConfigError(
                    f"unknown key(s) {', '.join(self.key(k) for k in unknown)}; "
                    f"allowed keys {where}: {', '.join(sorted(allowed))}"
                )

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    def str_(self, name: str, default: str | None = None) -> str | None:
        value = self.data.get(name, default)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{self.key(name)} must be a non-empty string, got {value!r}")
        return value

    def secret(self, name: str) -> str | None:
        """A secret string: like :meth:`str_`, but an error never shows the value."""
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{self.key(name)} must be a non-empty string "
                              f"(got a {type(value).__name__}; the value is not shown)")
        return value

    def number(
        self,
        name: str,
        default: float,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_min: bool = False,
    ) -> float:
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{self.key(name)} must be a number, got {value!r}")
        low_ok = (
            minimum is None
            or (value > minimum if exclusive_min else value >= minimum)
        )
        if not low_ok or (maximum is not None and value > maximum):
            lo = "" if minimum is None else f"{'>' if exclusive_min else '>='} {minimum}"
            hi = "" if maximum is None else f"<= {maximum}"
            rng = " and ".join(x for x in (lo, hi) if x)
            raise ConfigError(f"{self.key(name)} = {value!r} is out of range; it must be {rng}")
        return float(value)

    def integer(self, name: str, default: int, *, minimum: int | None = None,
                maximum: int | None = None) -> int:
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{self.key(name)} must be an integer, got {value!r}")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = [f">= {minimum}" if minimum is not None else "",
                      f"<= {maximum}" if maximum is not None else ""]
            raise ConfigError(
                f"{self.key(name)} = {value!r} is out of range; it must be "
                + " and ".join(b for b in bounds if b)
            )
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.key(name)} must be true or false, got {value!r}")
        return value

    def str_list(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.data.get(name, list(default))
        if not isinstance(value, list | tuple) or not all(
            isinstance(v, str) and v for v in value
        ):
            raise ConfigError(f"{self.key(name)} must be a list of strings, got {value!r}")
        return tuple(value)

    def choice(self, name: str, default: str | None, choices: tuple[str, ...]) -> str | None:
        value = self.data.get(name, default)
        if value is None:
            return None
        if value not in choices:
            raise ConfigError(
                f"{self.key(name)} = {value!r} is not valid; choose one of {', '.join(choices)}"
            )
        return str(value)

    def duration(self, name: str, default: timedelta | None) -> timedelta | None:
        """``"30s"``, ``"5m"``, ``"1h"``, ``"1d"``, ``"1w"`` or a number of seconds
        (:func:`lifecycle.windows.parse_duration`); ``default`` when the key is absent."""
        value = self.data.get(name)
        if value is None:
            return default
        try:
            return parse_duration(value, key=self.key(name))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
