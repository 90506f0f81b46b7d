"""Command-line stages of the GAIT-prop family: gait-train, gait-figure, gait-table, bench-gait.

Registered by floss.cli (EXTENSIONS); bad arguments raise ValueError, which floss.cli turns
into a one-line error with exit status 2.
"""

from __future__ import annotations

import argparse

import torch

from floss import io
from floss.cli import _device, _progress

DTYPES = {"float32": torch.float32, "float64": torch.float64}
VARIANTS = ("square", "tower", "linear")


def _pos(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse


def register(sub, common) -> None:
    from floss.gait.data import DATASETS
    from floss.gait.layers import INITS, INVERSES
    from floss.gait.rules import FORMS, RULES
    from floss.gait.train import DEFAULT_GAMMAS

    p = sub.add_parser(
        "gait-train", parents=[common], help="train S seeds with BP, GAIT-prop or TP (SPEC §4)"
    )
    g = p.add_argument_group("data (notes-gait.md §3, §5)")
    g.add_argument("--dataset", choices=DATASETS, default="digits")
    for key in ("train-images", "train-labels", "test-images", "test-labels"):
        g.add_argument(f"--{key}", default=None, help="IDX (.gz or plain) or KMNIST .npz file")
    g.add_argument("--test-fraction", type=float, default=0.2, help="digits only")
    g.add_argument("--split-seed", type=int, default=0, help="digits only")
    g = p.add_argument_group("network (notes-gait.md §1)")
    g.add_argument("--variant", choices=VARIANTS, default="square", help="linear: square, f = id")
    g.add_argument("--hidden", type=_pos(int), default=4, help="square hidden layers")
    g.add_argument(
        "--widths", type=_pos(int), nargs="+", default=None, help="tower widths (input first)"
    )
    g.add_argument("--init", choices=INITS, default="orthogonal")
    g.add_argument("--seed", type=int, default=1, help="seed s of network m is seed + m")
    g.add_argument("--seeds", type=_pos(int), default=3, help="networks (seeds) trained at once")
    g.add_argument("--dtype", choices=sorted(DTYPES), default="float64", help="reference: float64")
    g = p.add_argument_group("learning rule (notes-gait.md §2)")
    g.add_argument("--rule", choices=sorted(RULES), default="gait")
    g.add_argument("--lr", type=_pos(float), default=1e-4)
    g.add_argument("--reg", type=float, default=0.1, help="orthogonality regulariser lambda")
    g.add_argument("--gamma", type=_pos(float), default=1e-3)
    g.add_argument("--form", choices=FORMS, default="target", help="GAIT-prop target form")
    g.add_argument("--inverse", choices=INVERSES, default="solve", help="reference: inv")
    g.add_argument("--epochs", type=_pos(int), default=100)
    g.add_argument("--batch", type=_pos(int), default=60)
    g.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=False)
    g.add_argument("--eval-every", type=_pos(int), default=10, help="batches")
    g.add_argument("--record-every", type=_pos(int), default=100, help="batches")
    g.add_argument("--gamma-sweep", type=_pos(float), nargs="+", default=list(DEFAULT_GAMMAS))
    p.add_argument("--out", required=True)
    p.set_defaults(command=cmd_train)

    for name, fn, what in (
        ("gait-figure", cmd_figure, "render G1 or G2 (PDF, PNG, NetCDF)"),
        ("gait-table", cmd_table, "peak and final test accuracy table (CSV, Markdown)"),
    ):
        p = sub.add_parser(name, help=what)
        if name == "gait-figure":
            p.add_argument("name", help="G1_gait_accuracy or G2_gait_alignment")
        p.add_argument("--input", action="append", default=[], metavar="LABEL=PATH")
        p.add_argument("--params", default="{}", help="parameters as JSON")
        p.add_argument("--out", required=True, help="output prefix")
        p.set_defaults(command=fn)

    p = sub.add_parser("bench-gait", parents=[common], help="GAIT-prop / TP / BP step times")
    p.add_argument("--width", type=_pos(int), default=784)
    p.add_argument("--hidden", type=_pos(int), default=4)
    p.add_argument("--batch", type=_pos(int), default=60)
    p.add_argument("--repeats", type=_pos(int), default=5)
    p.add_argument("--out", default="results/bench/bench_gait.txt")
    p.set_defaults(command=cmd_bench)


def cmd_train(args) -> None:
    from floss.gait import data as gdata
    from floss.gait.layers import init_net, square_widths
    from floss.gait.train import GaitConfig, train

    device, dtype = _device(args), DTYPES[args.dtype]
    if not 0 < args.test_fraction < 1:
        raise ValueError(f"--test-fraction must be in (0, 1), got {args.test_fraction}")
    files = {k: getattr(args, k) for k in gdata.FILE_KEYS}
    data = gdata.load(args.dataset, files, args.test_fraction, args.split_seed, dtype, device)
    if args.variant == "tower":
        if not args.widths or args.widths[0] != data.n_inputs:
            raise ValueError(
                f"--widths must start with the input size {data.n_inputs}, got {args.widths}"
            )
        widths = tuple(args.widths)
    else:
        widths = square_widths(data.n_inputs, args.hidden)
    cfg = GaitConfig(
        rule=args.rule,
        lr=args.lr,
        reg=args.reg,
        gamma=args.gamma,
        form=args.form,
        epochs=args.epochs,
        batch=args.batch,
        eval_every=args.eval_every,
        record_every=args.record_every,
        shuffle=args.shuffle,
        inverse=args.inverse,
        gamma_sweep=args.gamma_sweep,
    )
    seeds = [args.seed + m for m in range(args.seeds)]
    net = init_net(seeds, widths, args.init, args.variant == "linear", dtype, device)
    total = args.epochs * (len(data.y_train) // args.batch)
    with _progress(args, total, f"gait-train {args.rule}") as bar:
        ds = train(net, data, cfg, bar.update)
    params = {
        **cfg.as_dict(),
        "dataset": args.dataset,
        "files": files,
        "variant": args.variant,
        "init": args.init,
        "seed": args.seed,
        "n_seeds": args.seeds,
        "test_fraction": args.test_fraction,
        "split_seed": args.split_seed,
    }
    ds.attrs.update(dataset=args.dataset, variant=args.variant)
    ds.attrs.update(io.provenance("gait-train", params, seeds=seeds, device=str(device)))
    io.write(ds, args.out)
    acc = ds["test_accuracy"].isel(eval=-1).values
    print(
        f"{args.rule}: final test accuracy {acc.mean():.4f} +- {acc.std():.4f} ({len(acc)} seeds)"
    )


def _inputs(args) -> tuple[dict, dict]:
    from floss.cli import figure_arguments

    return figure_arguments(args)


def cmd_figure(args) -> None:
    from floss.gait import figures

    figures.render(args.name, *_inputs(args), args.out)


def cmd_table(args) -> None:
    from floss.gait import figures

    figures.table(*_inputs(args), args.out)


def cmd_bench(args) -> None:
    from floss.gait import bench

    bench.main(args.width, args.hidden, args.batch, args.repeats, _device(args), args.out)
