"""Numba's on-disk cache, made safe for several processes compiling at once.

gebench compiles its kernels with ``@njit(cache=True)``: Numba keeps the machine code in
``__pycache__`` beside each module, as an index file per function that names one data file
per compiled signature. Its ``IndexDataCacheFile.save`` reads the index, takes the first data
file name the index does not use, writes the index and then the data. Two processes that
compile one function for different signatures at the same time can take the same name; one
of them later loads the other's machine code for its own signature and crashes (numba issues
#4807, "Cache causes segmentation faults when generated in parallel", and #10128, where the
maintainers propose a file lock). The parallel workers of a sweep, or of the test suite, do
exactly that on a fresh clone.

`install` makes every save hold an exclusive advisory lock (``fcntl.flock``) on one lock file
per cache directory, so that a name is chosen and its data written by one process at a time.
Loading needs no lock: each file is written to a temporary name and renamed, and a data file
the index names but that is not written yet reads as a cache miss, which compiles again.
Where ``fcntl`` or the method is missing (Windows, another Numba), nothing changes.
"""
from __future__ import annotations

import functools
import os

try:
    import fcntl
except ImportError:          # not POSIX: Numba's own behaviour stands
    fcntl = None

LOCK_NAME = ".gebench-numba-cache.lock"


def lock_path(cache_path: str) -> str:
    """The lock file that serialises cache saves in the directory `cache_path`."""
    return os.path.join(cache_path, LOCK_NAME)


def install() -> bool:
    """Serialise Numba's cache saves across processes; True if the lock is (or was) installed."""
    try:
        from numba.core import caching
    except ImportError:
        return False
    target = getattr(caching, "IndexDataCacheFile", None)
    save = getattr(target, "save", None)
    if fcntl is None or save is None:
        return False
    if getattr(save, "locked_across_processes", False):
        return True

    @functools.wraps(save)
    def locked_save(self, key, data):
        directory = getattr(self, "_cache_path", None)
        try:
            handle = os.open(lock_path(directory), os.O_RDWR | os.O_CREAT, 0o644) if directory else None
        except OSError:          # a read-only cache directory: Numba's save fails or is skipped as before
            handle = None
        if handle is None:
            return save(self, key, data)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            return save(self, key, data)
        finally:
            os.close(handle)     # closing releases the lock

    locked_save.locked_across_processes = True
    target.save = locked_save
    return True
