"""Import user code named by ``"package.module:function"`` (trainers, data loaders, job kinds).

One behaviour for every configured function: the working directory is importable. Users run
``lifecycle`` (a console script, whose ``sys.path[0]`` is the script's folder, not the
project) from their project root and name their own modules, so before importing, the
working directory is appended to ``sys.path`` unless it is already there (``python -m`` and
an interactive interpreter put it first, as ``""``). Appended, not prepended: an installed
package, the standard library and lifecycle's own modules win over a same-named file in the
project folder.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["ensure_cwd_importable", "import_path"]


def ensure_cwd_importable() -> None:
    """Append the working directory to ``sys.path`` unless it is already on it."""
    cwd = os.getcwd()
    present = {os.path.abspath(entry or os.curdir) for entry in sys.path}
    if cwd not in present:
        sys.path.append(cwd)


def import_path(path: str) -> Callable[..., Any]:
    """Import ``"package.module:function"`` (the working directory is importable).

    Raises
    ------
    ImportError
        When the module cannot be imported or has no such attribute, or the attribute is not
        callable; the message names both. An error raised while the module itself runs
        (a ``SyntaxError``, a failing top-level statement) propagates unchanged.
    """
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ImportError(f"{path!r} must look like 'package.module:function'")
    ensure_cwd_importable()
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"cannot import module {module_name!r} for {path!r}: {exc}") from exc
    try:
        fn = getattr(module, attr)
    except AttributeError:
        raise ImportError(f"module {module_name!r} has no attribute {attr!r} ({path!r})") from None
    if not callable(fn):
        raise ImportError(f"{path!r} is not callable")
    return fn
