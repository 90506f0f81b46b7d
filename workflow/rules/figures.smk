# Figure rendering: each figure as PDF and PNG, with a NetCDF of exactly the plotted data.


rule figure:
    input:
        unpack(lambda w: X.figure_inputs(config, w.figure)),
    output:
        png=report(
            "results/figures/{figure}.png",
            caption="../report/figure.rst",
            category="Gradient flossing",
        ),
        pdf="results/figures/{figure}.pdf",
        data="results/figures/{figure}.nc",
    log:
        "logs/figures/{figure}.log",
    benchmark:
        "benchmarks/figures/{figure}.tsv"
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        inputs=lambda w, input: " ".join(f"--input {k}={v}" for k, v in input.items()),
        figure_params=lambda w: json.dumps(X.figure_params(config, w.figure)),
        prefix=lambda w: f"results/figures/{w.figure}",
        caption=lambda w: X.figure_caption(config, w.figure),
        fail=lambda w: fail_switch("figure"),
    shell:
        "{params.fail}python -m floss figure {wildcards.figure} {params.inputs} "
        "--params '{params.figure_params}' --out {params.prefix} > {log} 2>&1"
