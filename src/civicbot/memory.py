"""Process-level memory settings of ``civicbot run`` (a long-running daemon with many threads).

glibc gives each thread that allocates its own malloc arena, up to eight per CPU; a daemon
with a stream reader, a dispatcher and a scheduler pool per account keeps freed memory spread
over all of them. Two arenas are plenty for civicbot's threads, which mostly wait on the
network (measured by ``bench/footprint.py``: about 2 MB less resident memory for one account).
An operator's own ``MALLOC_ARENA_MAX`` is respected; other C libraries are left alone.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: ``M_ARENA_MAX`` of glibc's ``mallopt``.
_M_ARENA_MAX = -8
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas (before the daemon starts its threads); True when set."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):  # musl and others: no mallopt, nothing to do
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))
