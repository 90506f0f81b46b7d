"""Progress in a rule's log: plain lines on a clock, and each stage's closing summary."""

from __future__ import annotations

import argparse

from floss.cli import main
from floss.core.cli import LogProgress, progress


def test_log_progress_prints_on_its_interval_and_at_the_end(capsys):
    now = [0.0]
    with LogProgress(100, "training", interval=30, clock=lambda: now[0]) as bar:
        for _ in range(100):
            now[0] += 1.0  # one second per epoch
            bar.update(1)
    lines = capsys.readouterr().err.splitlines()
    # at 30, 60 and 90 s, then the end
    assert len(lines) == 4
    assert lines[0] == "training: 30/100 (30 %), 30 s elapsed, ~70 s left"
    assert lines[-1] == "training: 100/100 (100 %), 100 s elapsed, ~0 s left"


def test_no_terminal_means_log_lines_not_a_bar():
    args = argparse.Namespace(progress=False)
    assert isinstance(progress(args, 10, "x"), LogProgress)
    args = argparse.Namespace(progress=None)  # pytest's stderr is no terminal
    assert isinstance(progress(args, 10, "x"), LogProgress)


def test_every_stage_ends_its_log_with_a_summary(tmp_path, capsys):
    out = tmp_path / "net.nc"
    assert main(["init", "-N", "4", "--out", str(out)]) == 0
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("floss: done in ") and line.endswith(f"init -N 4 --out {out}")
