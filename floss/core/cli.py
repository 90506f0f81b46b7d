"""CLI helpers every family's stages use: argument types, the execution options (device,
threads, progress) declared once, the device/thread setup, the log's parameter line, the
progress bar with the latest metrics, and the figure command's LABEL=PATH inputs. Errors are
FlossError: one line, exit status 2."""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from floss.core import checkpoint, io
from floss.core.errors import FlossError
from floss.core.plan import SEED_LIMIT

DTYPES = {"float32": torch.float32, "float64": torch.float64}
QR_METHODS = ["householder", "cholesky"]
# help texts of options many stages share
QR_HELP = "QR factorisation (reference householder; cholesky: faster, equal up to rounding)"
OUT = "output NetCDF file"
NETWORK = "network file (NetCDF written by an init, floss or train stage)"
INPUT = "input: task (fresh Bernoulli(1/2) bits each step) or zero"
FLOSS_EPOCHS = "flossing epochs: Adam steps on one Tp-step trajectory each"
TP = "Tp: steps of each flossing epoch's trajectory (reference 55)"
FLOSS_TRANSIENT = "steps before the exponents are accumulated (default 10 + ceil(Tp/10))"
FLOSS_LR = "flossing Adam learning rate (reference 1e-3)"
TARGET = "target of the flossed exponents, 1/step (default 0)"


def integer(name: str, minimum: int = 1):
    """argparse type: an integer >= minimum, with the option named in the error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{name} must be >= {minimum}, got {value}")
        return value

    return parse


def positive(name: str, zero: bool = False):
    """argparse type: a finite number > 0 (>= 0 with `zero`)."""
    bound = ">= 0" if zero else "> 0"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not ((value >= 0 if zero else value > 0) and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"{name} must be a finite number {bound}, got {value}")
        return value

    return parse


def nonnegative(name: str):
    """argparse type: a finite number >= 0."""
    return positive(name, zero=True)


def check_arguments(args: argparse.Namespace) -> None:
    """What every stage's arguments must satisfy, checked before any work: finite numbers,
    seeds in range, an --out that can be written."""
    for dest, value in vars(args).items():
        flag = "--" + dest.replace("_", "-")
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(v, float) and not math.isfinite(v):
                raise FlossError(f"{flag}: {v} is not allowed; allowed: a finite number")
            if "seed" in dest and type(v) is int and not 0 <= v < SEED_LIMIT:
                raise FlossError(f"{flag}: {v} is not allowed; allowed: 0 .. {SEED_LIMIT - 1}")
    out = getattr(args, "out", None)
    for path in [out] if isinstance(out, str) else out or []:
        check_output(path)


def check_output(path: str) -> None:
    """--out names a file (or a file prefix) under a directory this process may write."""
    if not path.strip():
        raise FlossError("--out: empty; allowed: a file path")
    p = Path(path)
    if p.is_dir():
        raise FlossError(f"--out: {path} is a directory; allowed: a file path")
    parent = p.parent  # created by the write if missing: its nearest existing ancestor counts
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise FlossError(f"--out: {path}: cannot write under {parent}")


def spectrum_arguments(p: argparse.ArgumentParser, input_default: str) -> None:
    """NETWORK, --k, --steps, --transient, --input and --qr of every no-grad spectrum stage."""
    p.add_argument("network", help=NETWORK)
    p.add_argument("--k", type=integer("--k"), default=None, help="exponents (default: all)")
    p.add_argument("--steps", type=integer("--steps"), default=1000, help="steps accumulated")
    p.add_argument(
        "--transient", type=integer("--transient", 0), default=100, help="steps before accumulating"
    )
    p.add_argument(
        "--input",
        choices=["zero", "task"],
        default=input_default,
        help=INPUT,
    )
    p.add_argument("--qr", choices=QR_METHODS, default="householder", help=QR_HELP)


def execution_options() -> argparse.ArgumentParser:
    """--device, --threads, --progress: the parent parser of every compute stage."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("execution")
    g.add_argument(
        "--device", choices=["cpu", "cuda"], default="cpu", help="torch device (cuda: one GPU)"
    )
    g.add_argument(
        "--threads",
        type=integer("--threads"),
        default=1,
        help="torch threads (default 1: at the papers' sizes, N <= 80, torch's own choice "
        "was 8-12x slower on a 2-core machine beside one busy process; run jobs side by "
        "side instead, and time more threads with `floss bench` before using them)",
    )
    g.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: on a terminal; elsewhere, e.g. in a rule's "
        "log, and with --no-progress: a progress line every 30 s)",
    )
    return p


def torch_device(args) -> torch.device:
    """The torch device of --device, with --threads applied; refuses cuda where none is."""
    if args.device == "cuda" and not torch.cuda.is_available():
        raise FlossError(
            "--device cuda: CUDA is not available on this machine (allowed: cpu, cuda)"
        )
    if args.threads:
        torch.set_num_threads(args.threads)
    return torch.device(args.device)


# The running stage's parameter line, held back until its work starts (a progress bar's
# first update) or it ends: a bad input found by the stage itself still gets a one-line error.
_held: list[str] = []


@contextmanager
def parameters_held(args: argparse.Namespace):
    """Around a stage's command: its parameters, `floss STAGE: key=value ...`, go to stderr
    once its work starts or, at the latest, when it returns; not at all if it raises."""
    skip = {"stage", "command", "progress"}
    items = sorted(vars(args).items(), key=lambda kv: kv[0] in ("device", "threads"))  # last
    pairs = [f"{k}={_text(v)}" for k, v in items if k not in skip and v is not None]
    _held[:] = [f"floss {args.stage}: " + " ".join(pairs)]
    try:
        yield
        show_parameters()
    finally:
        _held.clear()


def show_parameters(write=None) -> None:
    """Print the held parameter line, if any (once)."""
    while _held:
        line = _held.pop()
        if write is None:
            print(line, file=sys.stderr, flush=True)
        else:
            write(line)


def _text(value) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(map(_text, value))
    return shlex.quote(value) if isinstance(value, str) else str(value)


def metrics_text(metrics: dict) -> str:
    """`loss 0.512, accuracy 0.71`: each metric (a number, or one per network as an array or
    tensor) as its mean over the networks that are still finite."""
    parts = []
    for name, value in metrics.items():
        if torch.is_tensor(value):
            value = value.detach().cpu()
        v = np.asarray(value, dtype=float).ravel()
        v = v[np.isfinite(v)]
        parts.append(f"{name} {v.mean():.3g}" if v.size else f"{name} nan")
    return ", ".join(parts)


class LogProgress:
    """Progress as plain lines for a log file (a bar's carriage returns make one long line
    there): every `interval` seconds and at the end, with elapsed and remaining time and the
    latest metrics given to `update` (kept until replaced; converted only when printed, so a
    GPU tensor costs no sync per step)."""

    def __init__(self, total: int, desc: str, interval: float = 30.0, clock=time.monotonic):
        self.total, self.desc, self.interval, self.clock = total, desc, interval, clock
        self.done, self.start = 0, clock()
        self.last = self.start
        self.metrics: dict = {}

    def update(self, n: int = 1, **metrics) -> None:
        show_parameters()
        self.done += n
        self.metrics.update(metrics)
        now = self.clock()
        if now - self.last >= self.interval:
            self.last = now
            self._line(now)

    def _line(self, now: float) -> None:
        elapsed = now - self.start
        left = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        pct = 100 * self.done / self.total if self.total else 100.0
        extra = f", {metrics_text(self.metrics)}" if self.metrics else ""
        print(
            f"{self.desc}: {self.done}/{self.total} ({pct:.0f} %), {elapsed:.0f} s elapsed, "
            f"~{left:.0f} s left{extra}",
            file=sys.stderr,
            flush=True,
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            show_parameters()
            self._line(self.clock())


class BarProgress:
    """tqdm's bar, with the same `update(n, **metrics)`: the metrics as its postfix,
    refreshed at most every `interval` seconds (converting them may sync a GPU)."""

    def __init__(self, total: int, desc: str, interval: float = 0.5, clock=time.monotonic):
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=desc, mininterval=interval)
        self.interval, self.clock, self.shown = interval, clock, -math.inf
        self.metrics: dict = {}

    def update(self, n: int = 1, **metrics) -> None:
        show_parameters(lambda line: self.bar.write(line, file=sys.stderr))
        self.metrics.update(metrics)
        if self.metrics and self.clock() - self.shown >= self.interval:
            self.shown = self.clock()
            self.bar.set_postfix_str(metrics_text(self.metrics), refresh=False)
        self.bar.update(n)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.metrics:
            self.bar.set_postfix_str(metrics_text(self.metrics), refresh=False)
        self.bar.close()


def progress(args, total: int, desc: str):
    """A tqdm bar on a terminal (or with --progress); otherwise, as in a rule's log file,
    plain progress lines every 30 s (--no-progress only turns the bar off). Either takes
    `update(n=1, **metrics)`, metrics being the loop's latest values (per network)."""
    if args.progress or (args.progress is None and sys.stderr.isatty()):
        return BarProgress(total, desc)
    return LogProgress(total, desc)


def checkpoint_argument(p: argparse.ArgumentParser, unit: str = "epochs") -> None:
    p.add_argument(
        "--checkpoint-every",
        type=integer("--checkpoint-every", 0),
        default=0,
        help=f"save progress to OUT.ckpt every n {unit}; a rerun resumes from it (0: off)",
    )


def run_checkpointed(
    args, desc: str, stage, *stage_args, total: int | None = None, **stage_kw
) -> xr.Dataset:
    """Run a checkpointed stage with a progress bar over `total` steps (default args.epochs),
    write its result and only then remove the checkpoint (a kill before the write leaves the
    checkpoint); the result, for a summary line."""
    with progress(args, args.epochs if total is None else total, desc) as bar:
        ds = stage(
            *stage_args,
            **stage_kw,
            progress=bar.update,
            output=args.out,
            checkpoint_every=args.checkpoint_every,
        )
    io.write(ds, args.out)
    checkpoint.remove(args.out)
    return ds


def run_batched(args, desc: str, per: str, stage, *stage_args, **stage_kw) -> list[xr.Dataset]:
    """`run_checkpointed` for a stage with one result per --out path (one per value of the
    option `per`, e.g. --delay); the checkpoint lives next to the first path and is removed
    only after every result is written."""
    counts = len(getattr(args, per.removeprefix("--").replace("-", "_")))
    if len(args.out) != counts:
        raise FlossError(f"--out: give one path per {per} ({counts} values, {len(args.out)} paths)")
    first = args.out[0]
    with progress(args, args.epochs, desc) as bar:
        results = stage(
            *stage_args,
            **stage_kw,
            progress=bar.update,
            output=first,
            checkpoint_every=args.checkpoint_every,
        )
    for ds, out in zip(results, args.out, strict=True):
        io.write(ds, out)
    checkpoint.remove(first)
    return results


def figure_arguments(args) -> tuple[dict[str, xr.Dataset], dict]:
    """--input LABEL=PATH ... and --params JSON of the figure command."""
    inputs = {}
    for item in args.input:
        label, sep, path = item.partition("=")
        if not sep:
            raise FlossError(f"--input must be LABEL=PATH, got {item!r}")
        inputs[label] = io.read(path)
    try:
        params = json.loads(args.params)
    except json.JSONDecodeError as exc:
        raise FlossError(f"--params is not valid JSON ({exc})") from None
    return inputs, params
