"""Command-line stages of the Hessian experiments (registered in floss.cli.EXTENSIONS):

python -m floss hessian-train --rule bptt ... --out results/hessian/train_bptt_symmetric.nc
python -m floss hessian-curvature NET --data DATA --out OUT        (H4)
python -m floss hessian-figure H1_curvature_training --input LABEL=PATH ... --out PREFIX
python -m floss bench-hessian
"""

from __future__ import annotations

import argparse
import json

import torch

from floss import io
from floss.cli import _device, _progress
from floss.hessian import curvature, data, rules
from floss.hessian.model import PARAMS
from floss.hessian.train import TrainConfig

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _int(name: str, minimum: int = 1):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{name} must be >= {minimum}, got {value}")
        return value

    return parse


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


def _curvature_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("curvature (defaults: the reference power iteration)")
    g.add_argument("--power-tol", type=_positive_float("--power-tol"), default=1e-6)
    g.add_argument("--power-max-iter", type=_int("--power-max-iter"), default=500)
    g.add_argument("--top-k", type=_int("--top-k"), default=5)
    g.add_argument("--lanczos-max-iter", type=_int("--lanczos-max-iter"), default=100)
    g.add_argument("--lanczos-tol", type=_positive_float("--lanczos-tol"), default=1e-6)
    g.add_argument("--trace-probes", type=_int("--trace-probes", 2), default=10)
    g.add_argument("--slq-probes", type=_int("--slq-probes", 0), default=10, help="0: no density")
    g.add_argument("--slq-steps", type=_int("--slq-steps"), default=50)


def _curvature_config(args) -> curvature.CurvatureConfig:
    if args.top_k > args.lanczos_max_iter:
        raise ValueError(f"--top-k ({args.top_k}) exceeds --lanczos-max-iter")
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
    from floss.hessian import train

    rules.check(args.rule, args.feedback)
    device = _device(args)
    dtype = DTYPES[args.dtype]
    paths = {
        k: getattr(args, f"mnist_{k}")
        for k in data.MNIST_KEYS
        if getattr(args, f"mnist_{k}") is not None
    }
    sets = data.load(
        args.data,
        args.pad_rows,
        args.ext_time,
        args.split_seed,
        mnist_paths=paths,
        dtype=dtype,
        device=device,
    )
    if args.batch > len(sets["train"]):
        raise ValueError(f"--batch {args.batch} exceeds the {len(sets['train'])} training images")
    if args.hessian_samples > len(sets["validation"]):
        raise ValueError(
            f"--hessian-samples exceeds the {len(sets['validation'])} validation images"
        )
    cfg = TrainConfig(
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
    seeds = [args.seed + m for m in range(args.networks)]
    ccfg = _curvature_config(args)
    with _progress(args, args.iterations, f"hessian-train {args.rule}") as bar:
        ds = train.train(sets, seeds, cfg, ccfg, device, dtype, bar.update)
    ds.attrs["data"] = json.dumps(
        {
            "name": args.data,
            "pad_rows": args.pad_rows,
            "ext_time": args.ext_time,
            "split_seed": args.split_seed,
            **paths,
        }
    )
    io.write(ds, args.out)


def cmd_curvature(args) -> None:
    device = _device(args)
    net, evalset = io.read(args.network), io.read(args.data)
    if "inputs" not in evalset or "t0" not in evalset.attrs:
        raise ValueError(f"{args.data}: not an evaluation set (needs inputs, targets, attr t0)")
    dtype = DTYPES[args.dtype] if args.dtype else None
    ds = curvature.networks(
        net, evalset, _curvature_config(args), args.params, args.hvp, args.network, device, dtype
    )
    io.write(ds, args.out)


def cmd_figure(args) -> None:
    from floss.cli import figure_arguments
    from floss.hessian import figures

    figures.render(args.name, *figure_arguments(args), args.out)


def cmd_bench(args) -> None:
    from floss.hessian import bench

    if args.device != "cpu":
        raise ValueError("--device: the benchmark compares CPU baselines; allowed: cpu")
    _device(args)
    bench.main(args.repeats, args.out)


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "hessian-train", parents=[common], help="train BiolHessRNN networks, track curvature"
    )
    p.add_argument("--rule", choices=rules.RULES, default="bptt")
    p.add_argument("--feedback", choices=rules.FEEDBACK, default="symmetric")
    p.add_argument("--data", choices=["digits", "mnist"], default="digits")
    for key in data.MNIST_KEYS:
        p.add_argument(f"--mnist-{key.replace('_', '-')}", default=None, help="IDX file")
    p.add_argument("--pad-rows", type=_int("--pad-rows", 0), default=2)
    p.add_argument("--ext-time", type=_int("--ext-time"), default=1)
    p.add_argument("--split-seed", type=_int("--split-seed", 0), default=0)
    p.add_argument("--seed", type=_int("--seed", 0), default=0, help="network m: seed + m")
    p.add_argument("-M", "--networks", type=_int("--networks"), default=5)
    p.add_argument("-N", "--neurons", type=_int("--neurons"), default=32)
    p.add_argument("--reg-l2", type=float, default=1e-2)
    p.add_argument("--lr", type=_positive_float("--lr"), default=1e-2)
    p.add_argument("--batch", type=_int("--batch"), default=64)
    p.add_argument("--iterations", type=_int("--iterations"), default=2000)
    p.add_argument("--eval-points", type=_int("--eval-points"), default=40)
    p.add_argument("--hessian-params", nargs="+", choices=PARAMS, default=["W_rec"])
    p.add_argument(
        "--hessian-samples",
        type=_int("--hessian-samples", 0),
        default=0,
        help="validation images in the Hessian batch (0: all)",
    )
    p.add_argument(
        "--hvp", choices=["double_backward", "forward_over_reverse"], default="double_backward"
    )
    p.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    _curvature_args(p)
    p.add_argument("--out", required=True)
    p.set_defaults(command=cmd_train)

    p = sub.add_parser(
        "hessian-curvature", parents=[common], help="Hessian of trained flossing networks (H4)"
    )
    p.add_argument("network")
    p.add_argument("--data", required=True, help="evaluation set written by `floss data`")
    p.add_argument("--params", nargs="+", default=["J"], help="parameters (default J)")
    p.add_argument("--hvp", choices=curvature.HVP_METHODS, default="analytic")
    p.add_argument("--dtype", choices=sorted(DTYPES), default=None, help="default: the file's")
    _curvature_args(p)
    p.add_argument("--out", required=True)
    p.set_defaults(command=cmd_curvature)

    p = sub.add_parser("hessian-figure", help="render H1-H4 (PDF, PNG and data as NetCDF)")
    p.add_argument("name")
    p.add_argument("--input", action="append", default=[], metavar="LABEL=PATH")
    p.add_argument("--params", default="{}")
    p.add_argument("--out", required=True)
    p.set_defaults(command=cmd_figure)

    p = sub.add_parser("bench-hessian", parents=[common], help="Hessian benchmark rows")
    p.add_argument("--repeats", type=_int("--repeats"), default=5)
    p.add_argument("--out", default="results/bench/bench_hessian.txt")
    p.set_defaults(command=cmd_bench)
