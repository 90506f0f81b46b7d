"""Command-line stages of the surrogate-flossing experiments (SPEC §2):

python -m floss surrogate-init | surrogate-floss | surrogate-spectrum | surrogate-train
python -m floss surrogate-figure NAME --input LABEL=PATH ... --out PREFIX
python -m floss bench-surrogate
"""

from __future__ import annotations

import argparse

from floss import io
from floss.cli import CliError, _device, _positive, _progress
from floss.flossing import FlossingConfig
from floss.surrogate import stages
from floss.surrogate.dynamics import load_cell
from floss.surrogate.training import MODES, FlossingPolicy
from floss.tasks import Task
from floss.training import TrainConfig

QR = ["householder", "cholesky"]


def _positive_float(name: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{name} must be > 0, got {value}")
        return value

    return parse


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("surrogate-init", parents=[common], help="binary or LIF networks (§2)")
    p.add_argument("--model", choices=list(stages.SURROGATE_MODELS), default="binary")
    p.add_argument("--neurons", type=_positive("--neurons"), default=80)
    p.add_argument("--networks", type=_positive("--networks"), default=1)
    p.add_argument("--seed", type=int, default=1, help="network m gets seed + m")
    p.add_argument("--batch", type=_positive("--batch"), default=1, help="columns of x0")
    p.add_argument("--gain", type=float, default=1.0, help="coupling g of J (binary) or V")
    p.add_argument("--sharpness", type=_positive_float("--sharpness"), default=1.0)
    g = p.add_argument_group("LIF network only (SPEC §2.2)")
    g.add_argument("--inputs", type=_positive("--inputs"), default=100, help="Poisson inputs")
    g.add_argument("--input-gain", type=float, default=1.0, help="scale of W_in")
    g.add_argument("--rate", type=float, default=0.1, help="input spike probability per step")
    g.add_argument("--threshold", type=float, default=1.0)
    g.add_argument("--tau-mem", type=_positive_float("--tau-mem"), default=10.0)
    g.add_argument("--tau-syn", type=_positive_float("--tau-syn"), default=5.0)
    g.add_argument("--dt", type=_positive_float("--dt"), default=1.0)
    g.add_argument("--reset-in-jacobian", action="store_true", help="keep (1 - out) in D_t")
    p.add_argument("--out", required=True)
    p.set_defaults(command=cmd_init)

    p = sub.add_parser("surrogate-floss", parents=[common], help="surrogate gradient flossing")
    p.add_argument("network")
    p.add_argument("--epochs", type=_positive("--epochs", True), default=300)
    _flossing_args(p)
    p.add_argument("--out", required=True)
    p.set_defaults(command=cmd_floss)

    p = sub.add_parser("surrogate-spectrum", parents=[common], help="surrogate spectrum")
    p.add_argument("network")
    p.add_argument("--k", type=_positive("--k"), default=None, help="default: all")
    p.add_argument("--steps", type=_positive("--steps"), default=1000)
    p.add_argument("--transient", type=_positive("--transient", True), default=100)
    p.add_argument("--input", choices=["task", "zero"], default="task")
    p.add_argument("--qr", choices=QR, default="householder")
    p.add_argument("--out", required=True)
    p.set_defaults(command=cmd_spectrum)

    p = sub.add_parser("surrogate-train", parents=[common], help="delayed XOR, flossing policy")
    p.add_argument("network")
    p.add_argument("--delay", type=_positive("--delay"), default=9, help="d' = d/2 (steps)")
    p.add_argument("--steps", type=_positive("--steps"), default=300, help="T")
    p.add_argument("--epochs", type=_positive("--epochs"), default=3001)
    p.add_argument("--lr", type=_positive_float("--lr"), default=1e-3)
    p.add_argument("--clip", type=float, default=0.03)
    p.add_argument("--mode", choices=list(MODES), default="none")
    p.add_argument("--pre-epochs", type=_positive("--pre-epochs", True), default=500)
    p.add_argument("--every", type=_positive("--every"), default=100, help="Ef / check interval")
    p.add_argument("--floss-epochs", type=_positive("--floss-epochs", True), default=500)
    p.add_argument("--max-episodes", type=_positive("--max-episodes", True), default=2)
    p.add_argument("--tolerance", type=_positive_float("--tolerance"), default=0.05)
    p.add_argument("--check-steps", type=_positive("--check-steps"), default=300)
    p.add_argument("--check-transient", type=_positive("--check-transient", True), default=50)
    p.add_argument("--spectrum-every", type=_positive("--spectrum-every", True), default=0)
    _flossing_args(p, "floss-")
    p.add_argument("--out", required=True)
    p.set_defaults(command=cmd_train)

    p = sub.add_parser("surrogate-figure", help="render S1A ... S3 (PDF, PNG, NetCDF)")
    p.add_argument("name")
    p.add_argument("--input", action="append", default=[], metavar="LABEL=PATH")
    p.add_argument("--params", default="{}", help="figure parameters as JSON")
    p.add_argument("--out", required=True, help="output prefix")
    p.set_defaults(command=cmd_figure)

    p = sub.add_parser("bench-surrogate", parents=[common], help="surrogate timing rows")
    p.add_argument("--repeats", type=_positive("--repeats"), default=3)
    p.add_argument("--out", default="results/bench/surrogate.txt")
    p.set_defaults(command=cmd_bench)


def _flossing_args(p: argparse.ArgumentParser, prefix: str = "") -> None:
    g = p.add_argument_group("flossing (SPEC §1.4)")
    g.add_argument("--k", type=_positive("--k"), default=1, help="flossed exponents")
    g.add_argument(f"--{prefix}steps", dest="floss_steps", type=_positive("--steps"), default=55)
    g.add_argument(
        f"--{prefix}transient",
        dest="floss_transient",
        type=_positive("--transient", True),
        default=None,
        help="default 10 + ceil(Tp/10)",
    )
    g.add_argument(f"--{prefix}lr", dest="floss_lr", type=_positive_float("--lr"), default=1e-3)
    g.add_argument("--target", type=float, default=0.0)
    g.add_argument("--qr", choices=QR, default="householder")


def _flossing(args, state_size: int) -> FlossingConfig:
    if args.k > state_size:
        raise CliError(f"--k must be <= the state size {state_size}, got {args.k}")
    cfg = FlossingConfig(
        k=args.k,
        steps=args.floss_steps,
        transient=args.floss_transient,
        target=args.target,
        lr=args.floss_lr,
        qr=args.qr,
    )
    if cfg.n_transient >= cfg.steps:
        raise CliError(f"flossing transient ({cfg.n_transient}) must be < steps ({cfg.steps})")
    return cfg


def cmd_init(args) -> None:
    device = _device(args)
    kw = dict(batch=args.batch, gains=args.gain, sharpness=args.sharpness, device=device)
    if args.model == "spiking":
        kw.update(
            n_inputs=args.inputs,
            input_gain=args.input_gain,
            rate=args.rate,
            threshold=args.threshold,
            tau_mem=args.tau_mem,
            tau_syn=args.tau_syn,
            dt=args.dt,
            reset_in_jacobian=args.reset_in_jacobian,
        )
    ds = stages.init(args.model, args.seed, args.networks, args.neurons, **kw)
    io.write(ds, args.out)


def cmd_floss(args) -> None:
    device = _device(args)
    net = io.read(args.network)
    cfg = _flossing(args, load_cell(net, args.network).state_size)
    with _progress(args, args.epochs, "flossing") as bar:
        ds = stages.floss(net, cfg, args.epochs, args.network, device, bar.update)
    io.write(ds, args.out)


def cmd_spectrum(args) -> None:
    device = _device(args)
    ds = stages.spectrum(
        io.read(args.network),
        args.k,
        args.steps,
        args.transient,
        args.input,
        args.network,
        device,
        qr=args.qr,
    )
    io.write(ds, args.out)


def cmd_train(args) -> None:
    device = _device(args)
    net = io.read(args.network)
    cell = load_cell(net, args.network)
    task = Task.from_name("xor", args.delay, args.steps, channels=cell.n_inputs)
    policy = FlossingPolicy(
        args.mode,
        args.pre_epochs,
        args.every,
        args.floss_epochs,
        args.max_episodes,
        args.tolerance,
        args.check_steps,
        args.check_transient,
    )
    cfg = TrainConfig(
        epochs=args.epochs,
        batch=cell.batch_size,
        lr=args.lr,
        clip=args.clip,
        n_singular=0,
        spectrum_every=args.spectrum_every,
        spectrum_k=1,
        spectrum_steps=args.check_steps,
        spectrum_transient=args.check_transient,
    )
    flossing = _flossing(args, cell.state_size) if policy.flosses else None
    with _progress(args, args.epochs, f"training ({args.mode})") as bar:
        ds = stages.train(net, task, cfg, policy, flossing, args.network, device, bar.update)
    io.write(ds, args.out)


def cmd_figure(args) -> None:
    from floss.cli import figure_arguments
    from floss.surrogate import figures

    figures.render(args.name, *figure_arguments(args), args.out)


def cmd_bench(args) -> None:
    from floss.surrogate import bench

    if args.device != "cpu":
        raise CliError("--device: the benchmark compares CPU baselines; allowed: cpu")
    _device(args)
    bench.main(args.repeats, args.out)
