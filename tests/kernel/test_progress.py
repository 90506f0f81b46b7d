"""Progress in a rule's log: the stage's parameters first, plain lines on a clock with the
latest metrics, and each stage's closing summary."""

from __future__ import annotations

import argparse

import numpy as np
import torch

from floss.cli import main
from floss.core.cli import BarProgress, LogProgress, metrics_text, progress


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


def test_log_lines_show_the_latest_metrics_as_means_over_live_networks(capsys):
    now = [0.0]
    with LogProgress(4, "train", interval=2, clock=lambda: now[0]) as bar:
        bar.update()  # no metrics yet: the line has none
        now[0] = 2.0
        bar.update(1, loss=np.array([0.5, 0.7]), accuracy=torch.tensor([0.6, float("nan")]))
        now[0] = 4.0
        bar.update(2, loss=0.25)  # replaces loss, keeps accuracy
    at_2s, at_4s, end = capsys.readouterr().err.splitlines()
    assert at_2s == "train: 2/4 (50 %), 2 s elapsed, ~2 s left, loss 0.6, accuracy 0.6"
    assert at_4s == end == "train: 4/4 (100 %), 4 s elapsed, ~0 s left, loss 0.25, accuracy 0.6"
    assert metrics_text({"lambda_1": [float("inf")]}) == "lambda_1 nan"  # every network failed


def test_a_bar_takes_metrics_too(capsys):
    with BarProgress(3, "flossing") as bar:
        bar.update(1, flossing_loss=torch.tensor([0.04, 0.02]))
        bar.update(2)
        assert bar.bar.n == 3 and bar.bar.postfix == "flossing_loss 0.03"


def test_no_terminal_means_log_lines_not_a_bar():
    args = argparse.Namespace(progress=False)
    assert isinstance(progress(args, 10, "x"), LogProgress)
    args = argparse.Namespace(progress=None)  # pytest's stderr is no terminal
    assert isinstance(progress(args, 10, "x"), LogProgress)


def test_every_stage_ends_its_log_with_a_summary(tmp_path, capsys):
    out = tmp_path / "net.nc"
    assert main(["init", "-N", "4", "--out", str(out)]) == 0
    first, line = capsys.readouterr().err.splitlines()
    assert first.startswith("floss init: ") and "neurons=4 networks=1" in first
    assert f"out={out}" in first and "command=" not in first and "None" not in first
    assert line.startswith("floss: done in ") and line.endswith(f"init -N 4 --out {out}")


def test_a_training_log_opens_with_its_parameters_and_reports_the_loss(tmp_path, capsys):
    net, out = tmp_path / "net.nc", tmp_path / "train.nc"
    assert main(["init", "-N", "6", "-M", "2", "--batch", "4", "--out", str(net)]) == 0
    capsys.readouterr()
    train = ["train", str(net), "--delay", "2", "--steps", "12", "--epochs", "3"]
    assert main([*train, "--no-progress", "--out", str(out)]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3, lines  # parameters, the end's progress line, the summary
    assert lines[0].startswith("floss train: network=") and " delay=2 " in lines[0]
    assert lines[1].startswith("training: 3/3 (100 %)") and ", loss " in lines[1]
    assert ", accuracy " in lines[1] and lines[2].startswith("floss: done in ")


def test_a_stage_that_refuses_its_input_logs_no_parameters(tmp_path, capsys):
    net = tmp_path / "net.nc"
    assert main(["init", "-N", "4", "--batch", "2", "--out", str(net)]) == 0
    capsys.readouterr()
    # found by the flossing itself (Tp 5 <= transient 10), after the bar opened
    argv = ["floss", str(net), "--epochs", "2", "--steps", "5", "--no-progress"]
    assert main([*argv, "--out", str(tmp_path / "f.nc")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("floss floss: error: ") and "transient" in line
