"""Owner-only folders and files: what lifecycle writes to disk holds predictions.

Spill files, ``rejected/``, the SQLite database and ``LIFECYCLE_HOME`` hold the inputs and
outputs of a model in production, so every folder lifecycle creates is ``0700`` and every file
``0600``, whatever the process umask (the mode is set again after creation, since a umask can
only take bits away and an odd one such as ``0o277`` would lock the owner out).

A folder or file that already exists keeps its permissions: it was made by someone (a
deployment script, an administrator, an earlier version) who chose them. The files lifecycle
adds to such a folder are still ``0600``. See ``docs/operations.md`` (Security).
"""

from __future__ import annotations

import os
from pathlib import Path

#: Mode of the folders lifecycle creates (owner: read, write, enter).
DIR_MODE = 0o700
#: Mode of the files lifecycle creates (owner: read, write).
FILE_MODE = 0o600


def make_private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents as ``0700``; existing folders are left as
    they are."""
    path = Path(path)
    missing: list[Path] = []
    while not path.exists():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made meanwhile by another thread or process: theirs
            continue
        os.chmod(folder, DIR_MODE)


def open_private(path: Path, flags: int) -> int:
    """``os.open`` with ``O_CREAT``: a file this call creates is ``0600`` (an existing file
    keeps its mode). Returns the descriptor."""
    created = not os.path.exists(path)
    fd = os.open(path, flags | os.O_CREAT, FILE_MODE)
    if created:
        try:
            os.fchmod(fd, FILE_MODE)
        except OSError:
            os.close(fd)
            raise
    return fd


def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new or truncated ``0600`` file."""
    fd = open_private(path, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def create_private_file(path: Path) -> bool:
    """Create an empty ``0600`` file unless ``path`` exists; True if this call created it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return True
