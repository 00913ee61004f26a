"""The one atomic write: a temporary file in the target's folder, fsync, then rename.

A reader (another run, ``compare``, a CI step) never sees half a file, and a crash leaves either
the old file or the new one. Files get the permissions ``open()`` would give them (0666 less the
umask), not the 0600 of a temporary file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str, *, make_parents: bool = True) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns ``path``."""
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def writable_folder(folder: Path) -> None:
    """Raise OSError (``filename`` naming where) unless files can be created in ``folder``, or in
    the folders that would have to be made for it: a file and a folder are created in the
    nearest folder that exists, then removed. Actually trying is the one check that holds on a
    read-only or virtual filesystem (/proc), under access control lists, and for root, whom
    ``os.access`` always answers yes."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise NotADirectoryError(20, "not a folder", str(probe))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".dflbench-probe-", dir=probe)
        os.close(fd)
        os.unlink(tmp)
        if probe != folder:
            os.rmdir(tempfile.mkdtemp(prefix=".dflbench-probe-", dir=probe))
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, str(probe)) from None
