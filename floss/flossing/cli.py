"""Command-line stages of the gradient-flossing family (docs/science.md §1):

python -m floss init | floss | train | spectrum | jacobian | evaluate | data | demo | scaling

Every stage reads and writes NetCDF through floss.flossing.stages.
"""

from __future__ import annotations

import argparse

from floss.core import io
from floss.core.cli import (
    DTYPES,
    FLOSS_EPOCHS,
    FLOSS_LR,
    FLOSS_TRANSIENT,
    INPUT,
    NETWORK,
    OUT,
    QR_HELP,
    QR_METHODS,
    TARGET,
    TP,
    checkpoint_argument,
    integer,
    nonnegative,
    progress,
    run_batched,
    run_checkpointed,
    spectrum_arguments,
    torch_device,
)
from floss.core.errors import FlossError
from floss.flossing import evaluation, stages
from floss.rnn import networks
from floss.rnn.flossing import FlossingConfig, Schedule
from floss.rnn.tasks import TASK_NAMES, Task
from floss.rnn.training import TrainConfig

# help texts several options share
TRAIN_EPOCHS = "training epochs: Adam steps on one batch of B sequences each"
PRE_EPOCHS = "Ep: preflossing epochs before training (reference 500)"
EI = "Ei: flossing epochs of each episode during training (reference 500)"
EF = "Ef: training epochs between flossing episodes (reference 100)"
NI = "Ni: at most this many episodes during training (reference 2)"
MODEL = "cell: vanilla (the paper's rate RNN), gru or lstm"
REPEATS = "timing repeats; the median is reported"
K_ALL = "flossed exponents (default: all, up to 75)"
INTERVAL = "QR every m steps (reference 1)"


def _task_args(p: argparse.ArgumentParser, several: bool = False) -> None:
    g = p.add_argument_group("task (docs/science.md §1.2)")
    g.add_argument("--task", choices=sorted(TASK_NAMES), default="xor", help="delayed copy or XOR")
    g.add_argument(
        "--order",
        type=integer("--order", 0),
        default=None,
        help="XOR order h (temporal complexity; default 1, copy: 0)",
    )
    g.add_argument(  # several (train): one batched job, one --out path each
        "--delay",
        type=integer("--delay"),
        nargs="+" if several else None,
        default=[10] if several else 10,
        help="delay d' (steps)"
        + ("; several: trained together, one --out each" if several else ""),
    )
    g.add_argument("--steps", type=integer("--steps"), default=300, help="sequence length T")


def _flossing_args(p: argparse.ArgumentParser, prefix: str = "") -> None:
    g = p.add_argument_group("flossing (docs/science.md §1.4)")
    g.add_argument(f"--{prefix}k", dest="k", type=integer("--k"), default=None, help=K_ALL)
    g.add_argument(
        f"--{prefix}steps", dest="floss_steps", type=integer("--steps"), default=55, help=TP
    )
    g.add_argument(
        f"--{prefix}transient",
        dest="floss_transient",
        type=integer("--transient", 0),
        default=None,
        help=FLOSS_TRANSIENT,
    )
    g.add_argument(f"--{prefix}target", dest="target", type=float, default=0.0, help=TARGET)
    g.add_argument(f"--{prefix}lr", dest="floss_lr", type=float, default=1e-3, help=FLOSS_LR)
    g.add_argument("--interval", type=integer("--interval"), default=1, help=INTERVAL)
    g.add_argument(
        "--floss-input",
        dest="floss_input",
        choices=["task", "zero"],
        default="task",
        help="input while flossing: task (fresh Bernoulli(1/2) bits, reference) or zero",
    )
    g.add_argument("--qr", choices=QR_METHODS, default="householder", help=QR_HELP)


def _flossing_config(args, cell_state_size: int) -> FlossingConfig:
    k = args.k if args.k is not None else min(75, cell_state_size)
    if k > cell_state_size:
        raise FlossError(f"--k must be <= the state size {cell_state_size}, got {k}")
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


def register(sub, common: argparse.ArgumentParser) -> None:
    """The gradient-flossing stages, each with set_defaults(command=...)."""

    p = sub.add_parser(
        "init", parents=[common], help="initialise M networks (docs/science.md §1.1)"
    )
    p.add_argument("--model", choices=["vanilla", "gru", "lstm"], default="vanilla", help=MODEL)
    p.add_argument("-N", "--neurons", type=integer("--neurons"), default=80, help="neurons N")
    p.add_argument("-M", "--networks", type=integer("--networks"), default=1, help="networks M")
    p.add_argument("--seed", type=int, default=1, help="network m gets seed + m")
    p.add_argument("--inputs", type=integer("--inputs"), default=1, help="input channels S")
    p.add_argument("--gain", type=nonnegative("--gain"), default=1.0, help="g for every network")
    p.add_argument(
        "--gains",
        type=nonnegative("--gains"),
        nargs="+",
        default=None,
        metavar="G",
        help="one g per network instead",
    )
    p.add_argument(
        "--gain-uniform",
        nargs=2,
        type=nonnegative("--gain-uniform"),
        metavar=("LO", "HI"),
        default=None,
        help="draw each network's g ~ U(LO, HI) instead",
    )
    p.add_argument("--gbar", type=float, default=0.0, help="vanilla: J = g N(0,1)/sqrt(N) + gbar/N")
    p.add_argument(
        "--coupling",
        choices=["gaussian", "orthogonal"],
        default="gaussian",
        help="vanilla: J Gaussian (reference) or g times a random orthogonal matrix",
    )
    p.add_argument(
        "--nonlinearity",
        choices=["tanh", "linear"],
        default="tanh",
        help="vanilla phi (reference tanh)",
    )
    p.add_argument("--batch", type=integer("--batch"), default=16, help="columns of x0 (B)")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="float32", help="reference float32")
    p.add_argument("--out", required=True, help=OUT)
    p.set_defaults(command=cmd_init)

    p = sub.add_parser("floss", parents=[common], help="floss networks (docs/science.md §1.4)")
    p.add_argument("network", help=NETWORK)
    p.add_argument("--epochs", type=integer("--epochs", 0), default=500, help=FLOSS_EPOCHS)
    checkpoint_argument(p)
    _flossing_args(p)
    p.add_argument("--out", required=True, help=OUT)
    p.set_defaults(command=cmd_floss)

    p = sub.add_parser(
        "train", parents=[common], help="BPTT training, optional flossing (docs/science.md §1.3)"
    )
    p.add_argument("network", help=NETWORK)
    _task_args(p, several=True)
    p.add_argument("--epochs", type=integer("--epochs", 0), default=3001, help=TRAIN_EPOCHS)
    checkpoint_argument(p)
    p.add_argument("--lr", type=float, default=1e-3, help="training Adam learning rate")
    p.add_argument("--clip", type=float, default=0.03, help="per-parameter gradient norm bound")
    p.add_argument(
        "--schedule",
        choices=["none", "pre", "during", "pre-during"],
        default="none",
        help="flossing: pre (Ep epochs first), during (Ei every Ef epochs), pre-during (both)",
    )
    p.add_argument("--pre-epochs", type=integer("--pre-epochs", 0), default=500, help=PRE_EPOCHS)
    p.add_argument("--every", type=integer("--every"), default=100, help=EF)
    p.add_argument("--floss-epochs", type=integer("--floss-epochs", 0), default=500, help=EI)
    p.add_argument("--max-episodes", type=integer("--max-episodes", 0), default=2, help=NI)
    p.add_argument(
        "--spectrum-every",
        type=integer("--spectrum-every", 0),
        default=0,
        help="epochs between Lyapunov diagnostics during training (0: none)",
    )
    p.add_argument(
        "--spectrum-k", type=integer("--spectrum-k"), default=1, help="exponents per diagnostic"
    )
    _flossing_args(p, prefix="floss-")
    p.add_argument("--out", required=True, nargs="+", help=OUT + "; one per --delay")
    p.set_defaults(command=cmd_train)

    p = sub.add_parser("spectrum", parents=[common], help="no-grad Lyapunov spectrum")
    spectrum_arguments(p, input_default="zero")
    p.add_argument(
        "--seed", type=int, default=None, help="basis/input seed (default: each network's)"
    )
    p.add_argument("--interval", type=integer("--interval"), default=1, help=INTERVAL)
    p.add_argument("--dtype", choices=sorted(DTYPES), default=None, help="default: the file's")
    p.add_argument("--out", required=True, help=OUT)
    p.set_defaults(command=cmd_spectrum)

    p = sub.add_parser("jacobian", parents=[common], help="singular values of T_t = D_t...D_1")
    p.add_argument("network", help=NETWORK)
    p.add_argument(
        "--times", type=integer("--times"), nargs="+", default=[1, 10, 30, 100], help="t, steps"
    )
    p.add_argument("--seed", type=int, default=None, help="input seed (default: each network's)")
    p.add_argument("--input", choices=["zero", "task"], default="task", help=INPUT)
    p.add_argument("--out", required=True, help=OUT)
    p.set_defaults(command=cmd_jacobian)

    p = sub.add_parser("evaluate", parents=[common], help="loss/accuracy on an evaluation set")
    p.add_argument("network", help=NETWORK)
    p.add_argument("--data", required=True, help="evaluation set written by `floss data`")
    p.add_argument("--out", required=True, help=OUT)
    p.set_defaults(command=cmd_evaluate)

    p = sub.add_parser("data", help="write a fixed evaluation set")
    _task_args(p)
    p.add_argument("--channels", type=integer("--channels"), default=1, help="input channels S")
    p.add_argument("--samples", type=integer("--samples"), default=256, help="sequences")
    p.add_argument("--seed", type=int, default=1, help="seed of the sequences' bits")
    p.add_argument("--out", required=True, help=OUT)
    p.set_defaults(command=cmd_data)

    p = sub.add_parser("demo", parents=[common], help="floss 3 networks, print lambda_1")
    p.add_argument("--epochs", type=integer("--epochs"), default=100, help=FLOSS_EPOCHS)
    p.set_defaults(command=cmd_demo)

    p = sub.add_parser("scaling", parents=[common], help="time and memory vs N, k and M")
    p.add_argument(
        "--neurons", type=integer("--neurons"), nargs="+", default=[32, 64, 128], help="sizes N"
    )
    p.add_argument("--k-rules", nargs="+", default=["1", "N/4", "N"], help="k as 1, N/4, N, ...")
    p.add_argument("--networks", type=integer("--networks"), nargs="+", default=[1, 10], help="M")
    p.add_argument("--steps", type=integer("--steps"), default=30, help="steps measured")
    p.add_argument(
        "--epoch-steps",
        type=integer("--epoch-steps"),
        default=300,
        help="steps of a reported epoch",
    )
    p.add_argument("--repeats", type=integer("--repeats"), default=3, help=REPEATS)
    p.add_argument("--qr", choices=QR_METHODS, default="householder", help=QR_HELP)
    p.add_argument("--out", required=True, help=OUT)
    p.set_defaults(command=cmd_scaling)


# --- commands -------------------------------------------------------------------------------------
def _task(args, channels: int, delay: int | None = None) -> Task:
    delay = args.delay if delay is None else delay
    return Task.from_name(args.task, delay, args.steps, order=args.order, channels=channels)


def cmd_init(args) -> None:
    device = torch_device(args)
    gains = args.gain
    if args.gains is not None:
        if len(args.gains) != args.networks:
            raise FlossError(f"--gains has {len(args.gains)} values for --networks {args.networks}")
        gains = args.gains
    if args.gain_uniform is not None:
        lo, hi = args.gain_uniform
        if lo > hi:
            raise FlossError(f"--gain-uniform: LO {lo:g} > HI {hi:g}; allowed: LO <= HI")
        gains = stages.gains_uniform(*args.gain_uniform, args.networks, args.seed)
    kw = dict(
        n_inputs=args.inputs, gains=gains, batch=args.batch, dtype=DTYPES[args.dtype], device=device
    )
    if args.model == "vanilla":
        kw.update(gbar=args.gbar, coupling=args.coupling, nonlinearity=args.nonlinearity)
    io.write(stages.init(args.model, args.seed, args.networks, args.neurons, **kw), args.out)


def cmd_floss(args) -> None:
    device = torch_device(args)
    net = io.read(args.network)
    cell = networks.cell_from_dataset(net, args.network)
    cfg = _flossing_config(args, cell.state_size)
    run_checkpointed(args, "flossing", stages.floss, net, cfg, args.epochs, args.network, device)


def cmd_train(args) -> None:
    device = torch_device(args)
    net = io.read(args.network)
    cell = networks.cell_from_dataset(net, args.network)
    tasks = [_task(args, cell.n_inputs, d) for d in args.delay]
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
    desc = "training" if len(tasks) == 1 else f"training {len(tasks)} delays"
    inputs = (net, tasks, cfg, flossing, args.network, device)
    run_batched(args, desc, "--delay", stages.train_tasks, *inputs)


def cmd_spectrum(args) -> None:
    device = torch_device(args)
    net = io.read(args.network)
    cell = networks.cell_from_dataset(net, args.network)
    k = cell.state_size if args.k is None else args.k
    if k > cell.state_size:
        raise FlossError(f"--k must be <= the state size {cell.state_size}, got {k}")
    if args.transient >= args.steps:
        raise FlossError(f"--transient ({args.transient}) must be < --steps ({args.steps})")
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
    device = torch_device(args)
    ds = stages.jacobian(
        io.read(args.network), args.times, args.input, args.seed, args.network, device
    )
    io.write(ds, args.out)


def cmd_evaluate(args) -> None:
    device = torch_device(args)
    data = io.read(args.data)
    if "inputs" not in data or "targets" not in data or "t0" not in data.attrs:
        raise FlossError(f"{args.data}: not an evaluation set (needs inputs, targets and attr t0)")
    ds = evaluation.evaluate(io.read(args.network), data, args.network, device)
    io.write(ds, args.out)


def cmd_data(args) -> None:
    io.write(
        evaluation.evaluation_set(_task(args, args.channels), args.samples, args.seed), args.out
    )


def cmd_demo(args) -> None:
    from floss.flossing.demo import demo

    with progress(args, args.epochs, "flossing") as bar:
        demo(args.epochs, torch_device(args), bar.update)


def cmd_scaling(args) -> None:
    from floss.flossing import scaling

    for rule in args.k_rules:
        if problem := scaling.k_rule_problem(rule, args.neurons):
            raise FlossError(f"--k-rules: {problem}")
    device = torch_device(args)
    total = len(args.neurons) * (len(args.k_rules) + 1) * len(args.networks)
    with progress(args, total, "scaling") as bar:
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
    options = {k: v for k, v in vars(args).items() if k != "command"}
    ds.attrs.update(io.provenance("scaling", options | {"device": str(device)}))
    io.write(ds, args.out)
