"""Shared by the checkpoint tests of every family: a progress callback that 'kills' a stage
after n steps, a real SIGKILL of a `python -m floss` job after its first checkpoint, and the
bit-for-bit comparison of a resumed result with a straight one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np

from floss.core import checkpoint, io


class Killed(Exception):
    pass


def kill_after(n):
    count = {"n": 0}

    def progress(k, **metrics):
        count["n"] += k
        if count["n"] >= n:
            raise Killed

    return progress


def floss_command(*args):
    """`python -m floss ARGS` as an argv list."""
    return [sys.executable, "-m", "floss", *map(str, args)]


def sigkill_after_checkpoint(cmd, out):
    """Start `cmd`, SIGKILL it shortly after the checkpoint of `out` appears, check that it was
    killed and left no file that looks complete; the checkpoint's attrs."""
    run = subprocess.Popen(cmd)
    ckpt = checkpoint.path_for(out)
    deadline = time.time() + 120
    while time.time() < deadline and run.poll() is None and not ckpt.exists():
        time.sleep(0.02)
    time.sleep(0.2)  # a few steps past the checkpoint
    os.kill(run.pid, signal.SIGKILL)
    assert run.wait(timeout=30) == -signal.SIGKILL, "the run ended before it was killed"
    assert not out.exists()  # no file that looks complete
    return io.read(ckpt).attrs


def assert_same(a, b):
    """Every data variable and coordinate equal in values and dtype, and the same config."""
    assert set(a.data_vars) == set(b.data_vars)
    assert set(a.coords) == set(b.coords)
    for name in [*a.data_vars, *a.coords]:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
        assert a[name].dtype == b[name].dtype, name
    assert a.attrs["floss_config"] == b.attrs["floss_config"]
