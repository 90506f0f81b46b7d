"""Command line: `python -m floss <stage> ...` (or the `floss` script).

Every stage reads and writes NetCDF; bad arguments and unreadable files end in a one-line
error naming the option or file, with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
import xarray as xr

from floss import __version__, checkpoint, io, stages
from floss.flossing import FlossingConfig, Schedule
from floss.tasks import TASK_NAMES, Task
from floss.training import TrainConfig

DTYPES = {"float32": torch.float32, "float64": torch.float64}


class CliError(ValueError):
    pass


def _positive(name: str, allow_zero: bool = False):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if value < 0 or (value == 0 and not allow_zero):
            bound = ">= 0" if allow_zero else ">= 1"
            raise argparse.ArgumentTypeError(f"{name} must be {bound}, got {value}")
        return value

    return parse


def _progress(args, total: int, desc: str):
    from tqdm import tqdm

    enabled = args.progress if args.progress is not None else sys.stderr.isatty()
    bar = tqdm(
        total=total, desc=desc, disable=not enabled, mininterval=0.5 if sys.stderr.isatty() else 10
    )
    return bar


def _device(args) -> torch.device:
    if args.device == "cuda" and not torch.cuda.is_available():
        raise CliError("--device cuda: CUDA is not available on this machine (allowed: cpu, cuda)")
    if args.threads:
        torch.set_num_threads(args.threads)
    return torch.device(args.device)


# --- parser -------------------------------------------------------------------------------------
def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("execution")
    g.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    g.add_argument(
        "--threads",
        type=_positive("--threads"),
        default=None,
        help="torch threads (default: torch's own choice)",
    )
    g.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: only on a terminal)",
    )
    return p


def _checkpoint_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--checkpoint-every",
        type=_positive("--checkpoint-every", True),
        default=0,
        help="save progress to OUT.ckpt every n epochs; a rerun resumes from it (0: off)",
    )


def _task_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("task (SPEC §1.2)")
    g.add_argument("--task", choices=sorted(TASK_NAMES), default="xor")
    g.add_argument(
        "--order",
        type=_positive("--order", True),
        default=None,
        help="XOR order h (temporal complexity; default 1, copy: 0)",
    )
    g.add_argument("--delay", type=_positive("--delay"), default=10, help="delay d' (steps)")
    g.add_argument("--steps", type=_positive("--steps"), default=300, help="sequence length T")


def _flossing_args(p: argparse.ArgumentParser, prefix: str = "") -> None:
    g = p.add_argument_group("flossing (SPEC §1.4)")
    g.add_argument(
        f"--{prefix}k",
        dest="k",
        type=_positive("--k"),
        default=None,
        help="flossed exponents (default: all, up to 75)",
    )
    g.add_argument(
        f"--{prefix}steps" if prefix else "--steps",
        dest="floss_steps",
        type=_positive("--steps"),
        default=55,
        help="Tp",
    )
    g.add_argument(
        f"--{prefix}transient" if prefix else "--transient",
        dest="floss_transient",
        type=_positive("--transient", True),
        default=None,
        help="default 10 + ceil(Tp/10)",
    )
    g.add_argument(
        f"--{prefix}target" if prefix else "--target", dest="target", type=float, default=0.0
    )
    g.add_argument(f"--{prefix}lr" if prefix else "--lr", dest="floss_lr", type=float, default=1e-3)
    g.add_argument(
        "--interval",
        type=_positive("--interval"),
        default=1,
        help="QR every m steps (reference: 1)",
    )
    g.add_argument("--floss-input", dest="floss_input", choices=["task", "zero"], default="task")
    g.add_argument(
        "--qr",
        choices=["householder", "cholesky"],
        default="householder",
        help="QR factorisation (reference: householder)",
    )


def _flossing_config(args, cell_state_size: int) -> FlossingConfig:
    k = args.k if args.k is not None else min(75, cell_state_size)
    if k > cell_state_size:
        raise CliError(f"--k must be <= the state size {cell_state_size}, got {k}")
    return FlossingConfig(
        k=k,
        steps=args.floss_steps,
        transient=args.floss_transient,
        target=args.target,
        lr=args.floss_lr,
        interval=args.interval,
        input_mode=args.floss_input,
        qr=args.qr,
    )


# Stages of the other paper families: each module has register(subparsers, common), which
# adds its parsers with set_defaults(command=function).
EXTENSIONS: tuple[str, ...] = ("floss.gait.cli", "floss.surrogate.cli", "floss.hessian.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="floss", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"floss {__version__}")
    sub = parser.add_subparsers(dest="stage", required=True, metavar="STAGE")
    common = _common()

    p = sub.add_parser("init", parents=[common], help="initialise M networks (SPEC §1.1)")
    p.add_argument("--model", choices=["vanilla", "gru", "lstm"], default="vanilla")
    p.add_argument("-N", "--neurons", type=_positive("--neurons"), default=80)
    p.add_argument("-M", "--networks", type=_positive("--networks"), default=1)
    p.add_argument("--seed", type=int, default=1, help="network m gets seed + m")
    p.add_argument("--inputs", type=_positive("--inputs"), default=1, help="input channels S")
    p.add_argument("--gain", type=float, default=1.0, help="g for every network")
    p.add_argument(
        "--gains",
        type=float,
        nargs="+",
        default=None,
        metavar="G",
        help="one g per network instead",
    )
    p.add_argument(
        "--gain-uniform",
        nargs=2,
        type=float,
        metavar=("LO", "HI"),
        default=None,
        help="draw each network's g ~ U(LO, HI) instead",
    )
    p.add_argument("--gbar", type=float, default=0.0)
    p.add_argument("--coupling", choices=["gaussian", "orthogonal"], default="gaussian")
    p.add_argument("--nonlinearity", choices=["tanh", "linear"], default="tanh")
    p.add_argument("--batch", type=_positive("--batch"), default=16, help="columns of x0 (B)")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    p.add_argument("--out", required=True)

    p = sub.add_parser("floss", parents=[common], help="floss networks (SPEC §1.4)")
    p.add_argument("network")
    p.add_argument("--epochs", type=_positive("--epochs", True), default=500)
    _checkpoint_arg(p)
    _flossing_args(p)
    p.add_argument("--out", required=True)

    p = sub.add_parser(
        "train", parents=[common], help="BPTT training, optional flossing (SPEC §1.3)"
    )
    p.add_argument("network")
    _task_args(p)
    p.add_argument("--epochs", type=_positive("--epochs", True), default=3001)
    _checkpoint_arg(p)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--clip", type=float, default=0.03, help="per-parameter gradient norm bound")
    p.add_argument("--schedule", choices=["none", "pre", "during", "pre+during"], default="none")
    p.add_argument("--pre-epochs", type=_positive("--pre-epochs", True), default=500, help="Ep")
    p.add_argument("--every", type=_positive("--every"), default=100, help="Ef")
    p.add_argument("--floss-epochs", type=_positive("--floss-epochs", True), default=500, help="Ei")
    p.add_argument("--max-episodes", type=_positive("--max-episodes", True), default=2, help="Ni")
    p.add_argument("--spectrum-every", type=_positive("--spectrum-every", True), default=0)
    p.add_argument("--spectrum-k", type=_positive("--spectrum-k"), default=1)
    _flossing_args(p, prefix="floss-")
    p.add_argument("--out", required=True)

    p = sub.add_parser("spectrum", parents=[common], help="no-grad Lyapunov spectrum")
    p.add_argument("network")
    p.add_argument("--k", type=_positive("--k"), default=None, help="default: all")
    p.add_argument("--steps", type=_positive("--steps"), default=1000)
    p.add_argument("--transient", type=_positive("--transient", True), default=100)
    p.add_argument(
        "--seed", type=int, default=None, help="basis/input seed (default: each network's)"
    )
    p.add_argument("--input", choices=["zero", "task"], default="zero")
    p.add_argument("--interval", type=_positive("--interval"), default=1)
    p.add_argument("--qr", choices=["householder", "cholesky"], default="householder")
    p.add_argument("--dtype", choices=sorted(DTYPES), default=None, help="default: the file's")
    p.add_argument("--out", required=True)

    p = sub.add_parser("jacobian", parents=[common], help="singular values of T_t = D_t...D_1")
    p.add_argument("network")
    p.add_argument("--times", type=_positive("--times"), nargs="+", default=[1, 10, 30, 100])
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--input", choices=["zero", "task"], default="task")
    p.add_argument("--out", required=True)

    p = sub.add_parser("evaluate", parents=[common], help="loss/accuracy on an evaluation set")
    p.add_argument("network")
    p.add_argument("--data", required=True, help="evaluation set written by `floss data`")
    p.add_argument("--out", required=True)

    p = sub.add_parser("data", help="write a fixed evaluation set")
    _task_args(p)
    p.add_argument("--channels", type=_positive("--channels"), default=1)
    p.add_argument("--samples", type=_positive("--samples"), default=256)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)

    p = sub.add_parser("figure", help="render a figure (PDF, PNG and its data as NetCDF)")
    p.add_argument("name", help="F1_lambda_control ... F7_architectures")
    p.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="LABEL=PATH",
        help="a labelled input file (repeat)",
    )
    p.add_argument("--params", default="{}", help="figure parameters as JSON")
    p.add_argument("--out", required=True, help="output prefix (adds .pdf, .png, .nc)")

    p = sub.add_parser("demo", parents=[common], help="floss 3 networks, print lambda_1")
    p.add_argument("--epochs", type=_positive("--epochs"), default=100)

    p = sub.add_parser("scaling", parents=[common], help="time and memory vs N, k and M")
    p.add_argument("--neurons", type=_positive("--neurons"), nargs="+", default=[32, 64, 128])
    p.add_argument("--k-rules", nargs="+", default=["1", "N/4", "N"], help="k as 1, N/4, N, ...")
    p.add_argument("--networks", type=_positive("--networks"), nargs="+", default=[1, 10])
    p.add_argument("--steps", type=_positive("--steps"), default=30, help="steps measured")
    p.add_argument("--epoch-steps", type=_positive("--epoch-steps"), default=300)
    p.add_argument("--repeats", type=_positive("--repeats"), default=3)
    p.add_argument("--qr", choices=["householder", "cholesky"], default="householder")
    p.add_argument("--out", required=True)

    p = sub.add_parser("bench", parents=[common], help="benchmark table (see floss/bench.py)")
    p.add_argument("--networks", type=_positive("--networks"), nargs="+", default=[1, 10])
    p.add_argument("--repeats", type=_positive("--repeats"), default=3)
    p.add_argument("--out", default="results/bench/bench.txt")
    p.add_argument(
        "--families",
        nargs="*",
        choices=["surrogate", "hessian", "gait"],
        default=["surrogate", "hessian", "gait"],
        help="also the other families' rows (their bench-<family> tables; CPU only)",
    )
    for name in EXTENSIONS:
        importlib.import_module(name).register(sub, common)
    return parser


# --- commands -------------------------------------------------------------------------------------
def _task(args, channels: int) -> Task:
    return Task.from_name(args.task, args.delay, args.steps, order=args.order, channels=channels)


def cmd_init(args) -> None:
    device = _device(args)
    gains = args.gain
    if args.gains is not None:
        if len(args.gains) != args.networks:
            raise CliError(f"--gains has {len(args.gains)} values for --networks {args.networks}")
        gains = args.gains
    if args.gain_uniform is not None:
        gains = stages.gains_uniform(*args.gain_uniform, args.networks, args.seed)
    kw = dict(
        n_inputs=args.inputs, gains=gains, batch=args.batch, dtype=DTYPES[args.dtype], device=device
    )
    if args.model == "vanilla":
        kw.update(gbar=args.gbar, coupling=args.coupling, nonlinearity=args.nonlinearity)
    io.write(stages.init(args.model, args.seed, args.networks, args.neurons, **kw), args.out)


def cmd_floss(args) -> None:
    device = _device(args)
    net = io.read(args.network)
    cell = io.cell_from_dataset(net, args.network)
    cfg = _flossing_config(args, cell.state_size)
    with _progress(args, args.epochs, "flossing") as bar:
        ds = stages.floss(
            net,
            cfg,
            args.epochs,
            args.network,
            device,
            progress=bar.update,
            output=args.out,
            checkpoint_every=args.checkpoint_every,
        )
    io.write(ds, args.out)
    checkpoint.remove(args.out)


def cmd_train(args) -> None:
    device = _device(args)
    net = io.read(args.network)
    cell = io.cell_from_dataset(net, args.network)
    task = _task(args, cell.n_inputs)
    schedule = Schedule.named(
        args.schedule, args.pre_epochs, args.every, args.floss_epochs, args.max_episodes
    )
    cfg = TrainConfig(
        epochs=args.epochs,
        batch=cell.batch_size,
        lr=args.lr,
        clip=args.clip,
        spectrum_every=args.spectrum_every,
        spectrum_k=args.spectrum_k,
        schedule=schedule,
    )
    flossing = _flossing_config(args, cell.state_size) if args.schedule != "none" else None
    with _progress(args, args.epochs, "training") as bar:
        ds = stages.train(
            net,
            task,
            cfg,
            flossing,
            args.network,
            device,
            progress=bar.update,
            output=args.out,
            checkpoint_every=args.checkpoint_every,
        )
    io.write(ds, args.out)
    checkpoint.remove(args.out)


def cmd_spectrum(args) -> None:
    device = _device(args)
    net = io.read(args.network)
    cell = io.cell_from_dataset(net, args.network)
    k = cell.state_size if args.k is None else args.k
    if k > cell.state_size:
        raise CliError(f"--k must be <= the state size {cell.state_size}, got {k}")
    if args.transient >= args.steps:
        raise CliError(f"--transient ({args.transient}) must be < --steps ({args.steps})")
    dtype = DTYPES[args.dtype] if args.dtype else None
    ds = stages.spectrum(
        net,
        k,
        args.steps,
        args.transient,
        args.input,
        args.seed,
        dtype,
        args.interval,
        args.network,
        device,
        qr=args.qr,
    )
    io.write(ds, args.out)


def cmd_jacobian(args) -> None:
    device = _device(args)
    ds = stages.jacobian(
        io.read(args.network), args.times, args.input, args.seed, args.network, device
    )
    io.write(ds, args.out)


def cmd_evaluate(args) -> None:
    device = _device(args)
    data = io.read(args.data)
    if "inputs" not in data or "targets" not in data or "t0" not in data.attrs:
        raise CliError(f"{args.data}: not an evaluation set (needs inputs, targets and attr t0)")
    ds = stages.evaluate(io.read(args.network), data, args.network, device)
    io.write(ds, args.out)


def cmd_data(args) -> None:
    io.write(stages.evaluation_set(_task(args, args.channels), args.samples, args.seed), args.out)


def figure_arguments(args) -> tuple[dict[str, xr.Dataset], dict]:
    """--input LABEL=PATH ... and --params JSON of the figure stages (core and families)."""
    inputs = {}
    for item in args.input:
        label, sep, path = item.partition("=")
        if not sep:
            raise CliError(f"--input must be LABEL=PATH, got {item!r}")
        inputs[label] = io.read(path)
    try:
        params = json.loads(args.params)
    except json.JSONDecodeError as exc:
        raise CliError(f"--params is not valid JSON ({exc})") from None
    return inputs, params


def cmd_figure(args) -> None:
    from floss import figures

    figures.render(args.name, *figure_arguments(args), args.out)


def cmd_demo(args) -> None:
    from floss.flossing import Flosser
    from floss.lyapunov import analysis_spectrum
    from floss.models import init_networks

    device = _device(args)
    cell = init_networks("vanilla", [1, 2, 3], 32, gains=[0.3, 0.6, 0.9], batch=1, device=device)
    before = analysis_spectrum(cell, 1, 2000, 200, "task")[:, 0]
    flosser = Flosser(cell, FlossingConfig(k=1, target=-0.5, lr=5e-3, steps=100))
    with _progress(args, args.epochs, "flossing") as bar:
        flosser.run(args.epochs, bar.update)
    after = analysis_spectrum(cell, 1, 2000, 200, "task")[:, 0]
    print(f"flossing lambda_1 toward -0.5 for {args.epochs} epochs (N=32, g = 0.3, 0.6, 0.9)")
    for m in range(3):
        print(f"network {m}: lambda_1 before {before[m]:+.3f}  after {after[m]:+.3f}  (1/step)")


def cmd_scaling(args) -> None:
    from floss import scaling

    for rule in args.k_rules:
        if not (rule == "N" or rule.isdigit() or (rule.startswith("N/") and rule[2:].isdigit())):
            raise CliError(f"--k-rules: {rule!r} not allowed; allowed: an integer, N or N/<int>")
    device = _device(args)
    total = len(args.neurons) * (len(args.k_rules) + 1) * len(args.networks)
    with _progress(args, total, "scaling") as bar:
        ds = scaling.scan(
            args.neurons,
            args.k_rules,
            args.networks,
            args.steps,
            args.epoch_steps,
            args.repeats,
            device,
            args.qr,
            bar.update,
        )
    ds.attrs.update(io.provenance("scaling", vars(args) | {"device": str(device)}))
    io.write(ds, args.out)


def cmd_bench(args) -> None:
    from floss import bench

    device = _device(args)
    text = bench.main(args.networks, args.repeats, None, device=str(device))
    if device.type == "cpu":
        text += "\n\n" + bench.family_tables(args.families, args.repeats)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")


COMMANDS = {
    "init": cmd_init,
    "floss": cmd_floss,
    "train": cmd_train,
    "spectrum": cmd_spectrum,
    "jacobian": cmd_jacobian,
    "data": cmd_data,
    "evaluate": cmd_evaluate,
    "figure": cmd_figure,
    "scaling": cmd_scaling,
    "demo": cmd_demo,
    "bench": cmd_bench,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        command = getattr(args, "command", None) or COMMANDS[args.stage]
        command(args)
    except (ValueError, io.FlossIOError) as exc:  # FlossIOError and CliError are ValueErrors
        print(f"floss {args.stage}: error: {exc}", file=sys.stderr)
        return 2
    return 0
