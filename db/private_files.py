"""Patient data on disk is private to the account running Steve: 0700 directories, 0600 files.

Steve creates its files through these (the practice database, chat checkpoints, the Chroma
directory, the outbox folder), and `steve init` tightens whatever already exists.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Make `path` (and missing parents) as 0700 directories; an existing one is left as is."""
    if not path.is_dir():
        old = os.umask(0o077)  # parents made here are private too
        try:
            path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        finally:
            os.umask(old)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 unless it exists (an empty file is an empty SQLite
    database, and SQLite gives a database's -wal and -shm files the database's own mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path
    os.close(fd)
    return path


def tighten(root: Path) -> int:
    """chmod everything under `root` (itself included) to 0700/0600; returns how many changed.

    Symbolic links are not followed: a link out of the data directory is not ours to change.
    """
    changed = 0
    if not root.is_dir() or root.is_symlink():
        return 0
    for current, dirs, files in os.walk(root):
        here = Path(current)
        changed += _chmod(here, DIR_MODE)
        for name in files:
            changed += _chmod(here / name, FILE_MODE)
        dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
    return changed


def _chmod(path: Path, mode: int) -> int:
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode) or stat.S_IMODE(st.st_mode) == mode:
        return 0
    path.chmod(mode)
    return 1
