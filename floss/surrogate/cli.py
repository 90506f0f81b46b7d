"""Command-line stages of the surrogate-flossing experiments (docs/science.md §2):

python -m floss surrogate-init | surrogate-floss | surrogate-spectrum | surrogate-train

Their figures are made by `python -m floss figure S...`, their timing rows by
`python -m floss bench --families surrogate`.
"""

from __future__ import annotations

import argparse

from floss.core import io
from floss.core.cli import (
    FLOSS_EPOCHS,
    FLOSS_LR,
    FLOSS_TRANSIENT,
    NETWORK,
    OUT,
    QR_HELP,
    QR_METHODS,
    TARGET,
    TP,
    checkpoint_argument,
    integer,
    positive,
    run_batched,
    run_checkpointed,
    spectrum_arguments,
    torch_device,
)
from floss.core.errors import FlossError
from floss.rnn.flossing import FlossingConfig
from floss.rnn.tasks import Task
from floss.rnn.training import TrainConfig
from floss.surrogate import stages
from floss.surrogate.networks import load_cell
from floss.surrogate.training import MODES, FlossingPolicy

EVERY = "Ef: epochs between flossing episodes (periodic) or lambda_1 checks (adaptive)"


def register(sub, execution: argparse.ArgumentParser) -> None:
    p = sub.add_parser("surrogate-init", parents=[execution], help="binary or LIF networks (§2)")
    p.add_argument(
        "--model",
        choices=list(stages.SURROGATE_MODELS),
        default="binary",
        help="binary RNN (Heaviside units) or spiking (current-based LIF)",
    )
    p.add_argument("--neurons", type=integer("--neurons"), default=80, help="neurons N")
    p.add_argument("--networks", type=integer("--networks"), default=1, help="networks M")
    p.add_argument("--seed", type=int, default=1, help="network m gets seed + m")
    p.add_argument("--batch", type=integer("--batch"), default=1, help="columns of x0")
    p.add_argument("--gain", type=float, default=1.0, help="coupling g of J (binary) or V")
    p.add_argument(
        "--sharpness",
        type=positive("--sharpness"),
        default=None,
        help="binary RNN only: g of sigma'_g in the Jacobian and the backward pass (default 1)",
    )
    g = p.add_argument_group("LIF network only (docs/science.md §2.2)")
    g.add_argument(
        "--jacobian-sharpness",
        type=positive("--jacobian-sharpness"),
        default=5.0,
        help="g of sigma'_g in the surrogate Jacobian (reference script: 5)",
    )
    g.add_argument(
        "--backward-sharpness",
        type=positive("--backward-sharpness"),
        default=10.0,
        help="g of sigma'_g in the spikes' autograd backward pass (reference script: 10)",
    )
    g.add_argument("--inputs", type=integer("--inputs"), default=100, help="Poisson inputs")
    g.add_argument("--input-gain", type=float, default=1.0, help="scale of W_in")
    g.add_argument("--rate", type=float, default=0.1, help="input spike probability per step")
    g.add_argument("--threshold", type=float, default=1.0, help="spike threshold of mem")
    g.add_argument(
        "--tau-mem", type=positive("--tau-mem"), default=10.0, help="membrane time constant, ms"
    )
    g.add_argument(
        "--tau-syn", type=positive("--tau-syn"), default=5.0, help="synaptic time constant, ms"
    )
    g.add_argument("--dt", type=positive("--dt"), default=1.0, help="time step, ms")
    g.add_argument("--reset-in-jacobian", action="store_true", help="keep (1 - out) in D_t")
    p.add_argument("--out", required=True, help=OUT)
    p.set_defaults(command=cmd_init)

    p = sub.add_parser("surrogate-floss", parents=[execution], help="surrogate gradient flossing")
    p.add_argument("network", help=NETWORK)
    p.add_argument(
        "--epochs",
        type=integer("--epochs", 0),
        default=300,
        help=FLOSS_EPOCHS,
    )
    checkpoint_argument(p)
    _flossing_args(p)
    p.add_argument("--out", required=True, help=OUT)
    p.set_defaults(command=cmd_floss)

    p = sub.add_parser("surrogate-spectrum", parents=[execution], help="surrogate spectrum")
    spectrum_arguments(p, input_default="task")
    p.add_argument("--out", required=True, help=OUT)
    p.set_defaults(command=cmd_spectrum)

    p = sub.add_parser("surrogate-train", parents=[execution], help="delayed XOR, flossing policy")
    p.add_argument("network", help=NETWORK)
    p.add_argument(
        "--delay",
        type=integer("--delay"),
        nargs="+",
        default=[9],
        help="d' = d/2 (steps); several: trained together, one --out path each",
    )
    p.add_argument("--steps", type=integer("--steps"), default=300, help="sequence length T")
    p.add_argument(
        "--epochs",
        type=integer("--epochs"),
        default=3001,
        help="training epochs: Adam steps on one batch each (reference 3001)",
    )
    checkpoint_argument(p)
    p.add_argument("--lr", type=positive("--lr"), default=1e-3, help="training Adam lr")
    p.add_argument("--clip", type=float, default=0.03, help="per-parameter gradient norm bound")
    p.add_argument(
        "--mode",
        choices=list(MODES),
        default="none",
        help="flossing during training: none, periodic (reference) or adaptive (lambda_1 checks)",
    )
    p.add_argument(
        "--pre-epochs",
        type=integer("--pre-epochs", 0),
        default=500,
        help="Ep: preflossing epochs before training (periodic, adaptive; reference 500)",
    )
    p.add_argument("--every", type=integer("--every"), default=100, help=EVERY)
    p.add_argument(
        "--floss-epochs",
        type=integer("--floss-epochs", 0),
        default=500,
        help="Ei: flossing epochs of each episode (reference 500)",
    )
    p.add_argument(
        "--max-episodes",
        type=integer("--max-episodes", 0),
        default=2,
        help="Ni: episodes at most (adaptive: per network; reference 2)",
    )
    p.add_argument(
        "--tolerance",
        type=positive("--tolerance"),
        default=0.05,
        help="adaptive: floss a network when |lambda_1 - target| exceeds this, 1/step",
    )
    p.add_argument(
        "--check-steps",
        type=integer("--check-steps"),
        default=300,
        help="adaptive: steps of each check",
    )
    p.add_argument(
        "--check-transient",
        type=integer("--check-transient", 0),
        default=50,
        help="adaptive: transient steps of each check",
    )
    p.add_argument(
        "--spectrum-every",
        type=integer("--spectrum-every", 0),
        default=0,
        help="epochs between surrogate Lyapunov diagnostics during training (0: none)",
    )
    _flossing_args(p, "floss-")
    p.add_argument("--out", required=True, nargs="+", help=OUT + "; one per --delay")
    p.set_defaults(command=cmd_train)


def _flossing_args(p: argparse.ArgumentParser, prefix: str = "") -> None:
    g = p.add_argument_group("flossing (docs/science.md §1.4)")
    g.add_argument("--k", type=integer("--k"), default=1, help="flossed exponents")
    g.add_argument(
        f"--{prefix}steps",
        dest="floss_steps",
        type=integer("--steps"),
        default=55,
        help=TP,
    )
    g.add_argument(
        f"--{prefix}transient",
        dest="floss_transient",
        type=integer("--transient", 0),
        default=None,
        help=FLOSS_TRANSIENT,
    )
    g.add_argument(
        f"--{prefix}lr",
        dest="floss_lr",
        type=positive("--lr"),
        default=1e-3,
        help=FLOSS_LR,
    )
    g.add_argument("--target", type=float, default=0.0, help=TARGET)
    g.add_argument("--qr", choices=QR_METHODS, default="householder", help=QR_HELP)


def _flossing(args, state_size: int) -> FlossingConfig:
    if args.k > state_size:
        raise FlossError(f"--k must be <= the state size {state_size}, got {args.k}")
    cfg = FlossingConfig(
        k=args.k,
        steps=args.floss_steps,
        transient=args.floss_transient,
        target=args.target,
        lr=args.floss_lr,
        qr=args.qr,
    )
    if cfg.n_transient >= cfg.steps:
        raise FlossError(f"flossing transient ({cfg.n_transient}) must be < steps ({cfg.steps})")
    return cfg


def cmd_init(args) -> None:
    device = torch_device(args)
    kw = dict(batch=args.batch, gains=args.gain, device=device)
    if args.model == "spiking":
        if args.sharpness is not None:
            raise FlossError(
                "--sharpness is the binary RNN's; the LIF network takes --jacobian-sharpness "
                "and --backward-sharpness"
            )
        kw.update(
            jacobian_sharpness=args.jacobian_sharpness,
            backward_sharpness=args.backward_sharpness,
            n_inputs=args.inputs,
            input_gain=args.input_gain,
            rate=args.rate,
            threshold=args.threshold,
            tau_mem=args.tau_mem,
            tau_syn=args.tau_syn,
            dt=args.dt,
            reset_in_jacobian=args.reset_in_jacobian,
        )
    else:
        kw["sharpness"] = 1.0 if args.sharpness is None else args.sharpness
    ds = stages.init(args.model, args.seed, args.networks, args.neurons, **kw)
    io.write(ds, args.out)


def cmd_floss(args) -> None:
    device = torch_device(args)
    net = io.read(args.network)
    cfg = _flossing(args, load_cell(net, args.network).state_size)
    run_checkpointed(
        args, "flossing", stages.floss, net, cfg, args.epochs, args.network, device=device
    )


def cmd_spectrum(args) -> None:
    device = torch_device(args)
    net = io.read(args.network)
    ds = stages.spectrum(
        net, args.k, args.steps, args.transient, args.input, args.network, device=device, qr=args.qr
    )
    io.write(ds, args.out)


def cmd_train(args) -> None:
    device = torch_device(args)
    net = io.read(args.network)
    cell = load_cell(net, args.network)
    tasks = [Task.from_name("xor", d, args.steps, channels=cell.n_inputs) for d in args.delay]
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
    desc = f"training ({args.mode})" + (f", {len(tasks)} delays" if len(tasks) > 1 else "")
    inputs = (net, tasks, cfg, policy, flossing, args.network)
    run_batched(args, desc, "--delay", stages.train_tasks, *inputs, device=device)
