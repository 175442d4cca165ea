"""Numba cache saves are serialised across processes (markets/numba_cache.py), so parallel
workers compiling one function on a fresh clone cannot write each other's machine code."""
import fcntl
import os
import subprocess
import sys
import textwrap
import time

from gebench.markets import numba_cache

CHILD = textwrap.dedent("""
    import sys
    import gebench.markets  # installs the lock
    from numba.core import caching

    locked = caching.IndexDataCacheFile.save

    def announced(self, key, data):
        print("saving", flush=True)
        return locked(self, key, data)

    caching.IndexDataCacheFile.save = announced
    sys.path.insert(0, sys.argv[1])
    import kernel
    print(kernel.twice(2.0), flush=True)
""")


def test_install_is_idempotent_and_marks_numbas_save():
    from numba.core import caching

    assert numba_cache.install() and numba_cache.install()
    assert caching.IndexDataCacheFile.save.locked_across_processes


def test_a_save_waits_for_the_lock_another_process_holds(tmp_path):
    (tmp_path / "kernel.py").write_text("from numba import njit\n\n\n@njit(cache=True)\n"
                                        "def twice(x):\n    return 2.0 * x\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    holder = os.open(numba_cache.lock_path(str(cache)), os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(holder, fcntl.LOCK_EX)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "saving"
        time.sleep(1.0)
        assert child.poll() is None and not list(cache.glob("*.nbi")), "the save did not wait for the lock"
    finally:
        os.close(holder)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0 and out.strip() == "4.0"
    assert len(list(cache.glob("kernel.twice-*.nbi"))) == 1 and len(list(cache.glob("kernel.twice-*.nbc"))) == 1
