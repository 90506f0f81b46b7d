# GAIT-prop vs BP vs TP in invertible networks (SPEC §4, notes-gait.md): one training job per
# data set, variant and rule (all seeds batched), figures G1-G2 and the accuracy table.
GAIT_FIGURES = ["G1_gait_accuracy", "G2_gait_alignment"]
GAIT_RULES = ["bp", "gait", "tp"]


def gait_runs():
    g = config["gait"]
    return [
        f"results/gait/{d}/{v}_{r}.nc"
        for d in g["datasets"]
        for v in g["variants"]
        for r in GAIT_RULES
    ]


def gait_labelled_inputs(paths):
    return " ".join(
        "--input {}={}".format(
            "/".join(p.split("/")[2:]).removesuffix(".nc").replace("_", "/"), p
        )
        for p in paths
    )


def gait_options(w):
    g = config["gait"]
    settings = g["rules"][w.grule]
    opts = {
        "dataset": w.gdata,
        "variant": w.gvariant,
        "hidden": g["hidden"],
        "init": g.get("init", "orthogonal"),
        "seed": g["seed"],
        "seeds": g["n_seeds"],
        "dtype": g.get("dtype", "float64"),
        "rule": w.grule,
        "lr": settings["lr"],
        "reg": settings["reg"],
        "gamma": g["rules"]["gait"].get("gamma", 1e-3),
        "form": g.get("form", "target"),
        "inverse": g.get("inverse", "solve"),
        "epochs": g["epochs"],
        "batch": g["batch"],
        "eval_every": g.get("eval_every", 10),
        "record_every": g.get("record_every", 100),
        "gamma_sweep": g.get("gamma_sweep"),
        "shuffle": g.get("shuffle", False),
    }
    if w.gvariant == "tower":
        opts["widths"] = g["tower_widths"]
    if w.gdata == "digits":
        opts["test_fraction"] = g.get("digits", {}).get("test_fraction", 0.2)
        opts["split_seed"] = g.get("digits", {}).get("split_seed", 0)
    else:
        opts.update(g["data"][w.gdata])
    return run_options(opts)


def gait_caption():
    g = config["gait"]
    return (
        f"{config['scale']} scale: {g['n_seeds']} seeds per rule, {g['epochs']} epochs, "
        f"batch {g['batch']}, {g['hidden']} hidden layers (square), lr/lambda "
        + ", ".join(f"{r} {v['lr']:g}/{v['reg']:g}" for r, v in g["rules"].items())
        + f", gamma {g['rules']['gait'].get('gamma', 1e-3):g}."
    )


rule gait_train:
    output:
        "results/gait/{gdata}/{gvariant}_{grule}.nc",
    log:
        "logs/gait/{gdata}/{gvariant}_{grule}.log",
    benchmark:
        "benchmarks/gait/{gdata}/{gvariant}_{grule}.tsv"
    wildcard_constraints:
        gdata="digits|mnist|fmnist|kmnist",
        gvariant="square|tower|linear",
        grule="bp|gait|tp",
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=600,
    params:
        options=gait_options,
        fail=lambda w: fail_switch("gait_train"),
    shell:
        "{params.fail}python -m floss gait-train {params.options} "
        "--threads {threads} --out {output} > {log} 2>&1"


rule gait_figure:
    input:
        lambda w: gait_runs(),
    output:
        png=report(
            "results/figures/{gfig}.png",
            caption="../report/gait.rst",
            category="GAIT-prop",
        ),
        pdf="results/figures/{gfig}.pdf",
        data="results/figures/{gfig}.nc",
    log:
        "logs/gait/{gfig}.log",
    benchmark:
        "benchmarks/gait/{gfig}.tsv"
    wildcard_constraints:
        gfig="|".join(GAIT_FIGURES),
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        inputs=lambda w, input: gait_labelled_inputs(input),
        figure_params=lambda w: json.dumps({"caption": gait_caption()}),
        prefix=lambda w: f"results/figures/{w.gfig}",
        caption=lambda w: gait_caption(),
    shell:
        "python -m floss gait-figure {wildcards.gfig} {params.inputs} "
        "--params '{params.figure_params}' --out {params.prefix} > {log} 2>&1"


rule gait_table:
    input:
        lambda w: gait_runs(),
    output:
        csv="results/gait/accuracy_table.csv",
        md="results/gait/accuracy_table.md",
    log:
        "logs/gait/accuracy_table.log",
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        inputs=lambda w, input: gait_labelled_inputs(input),
        table_params=lambda w: json.dumps({"caption": gait_caption()}),
    shell:
        "python -m floss gait-table {params.inputs} --params '{params.table_params}' "
        "--out results/gait/accuracy_table > {log} 2>&1"


if config.get("gait", {}).get("enabled"):
    FAMILY_TARGETS.extend(
        gait_runs()
        + [f"results/figures/{f}.{ext}" for f in GAIT_FIGURES for ext in ("png", "nc")]
        + ["results/gait/accuracy_table.csv", "results/gait/accuracy_table.md"]
    )
