"""Shared by the checkpoint tests of every family: a progress callback that 'kills' a stage
after n steps, and the bit-for-bit comparison of a resumed result with a straight one."""

from __future__ import annotations

import numpy as np


class Killed(Exception):
    pass


def kill_after(n):
    count = {"n": 0}

    def progress(k):
        count["n"] += k
        if count["n"] >= n:
            raise Killed

    return progress


def assert_same(a, b):
    """Every data variable and coordinate equal in values and dtype, and the same config."""
    assert set(a.data_vars) == set(b.data_vars)
    assert set(a.coords) == set(b.coords)
    for name in [*a.data_vars, *a.coords]:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
        assert a[name].dtype == b[name].dtype, name
    assert a.attrs["floss_config"] == b.attrs["floss_config"]
