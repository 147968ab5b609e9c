"""Atomic file creation: nothing a user has already computed is lost to a crash mid-write."""

from __future__ import annotations

import os
import uuid
from typing import Callable

from .errors import InputError

__all__ = ["atomic_write"]


def atomic_write(path, write: Callable[[str], None]) -> None:
    """Create ``path`` atomically: ``write(tmp)`` creates the file at the temporary path ``tmp``.

    ``tmp`` is ``.<name>.<pid>.<random>.tmp`` in the same directory (so the rename cannot cross file
    systems). The file is flushed to disk (fsync) and renamed over ``path`` with :func:`os.replace`,
    then the directory is fsynced. An error or crash mid-write leaves any existing file at ``path``
    untouched and removes the temporary file (a hard kill may leave the temporary file behind,
    never a half-written ``path``). Used for HDF5 results and checkpoints, DICOM files and reports.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise InputError(f"path: directory {directory!r} does not exist (writing {path!r})")
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable (POSIX); not possible everywhere
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # pragma: no cover
        pass
