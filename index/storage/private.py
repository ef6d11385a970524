"""Owner-only files for the database and the index.

They hold every article, and nobody else on the machine needs to read them: folders are made
``0o700``, files ``0o600``.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(folder: Path) -> Path:
    """Create ``folder`` (and missing parents) and make it owner-only; returns it."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    for created in missing:
        os.chmod(created, DIR_MODE)
    os.chmod(folder, DIR_MODE)
    return folder


def private_file(path: Path) -> Path:
    """Create ``path`` empty if it is missing and make it owner-only; returns it."""
    os.close(os.open(path, os.O_CREAT | os.O_RDONLY, FILE_MODE))
    os.chmod(path, FILE_MODE)
    return path


def private_tree(folder: Path) -> None:
    """Make ``folder``, every folder and every file under it owner-only."""
    os.chmod(folder, DIR_MODE)
    for path in folder.rglob("*"):
        if path.is_symlink():
            continue
        os.chmod(path, DIR_MODE if path.is_dir() else FILE_MODE)
