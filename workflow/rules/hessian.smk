# Hessian analysis of RNN losses (BiolHessRNN, SPEC §3): BPTT vs three-factor training with
# curvature tracking (H1-H3) and the curvature of gradient-flossing networks (H4). File names
# and stage options come from floss.hessian.plan.
from floss.hessian import plan as HP

if config.get("hessian", {}).get("enabled"):
    try:
        HP.check(config)
    except HP.HessianConfigError as exc:
        raise WorkflowError(str(exc)) from None
    FAMILY_TARGETS.extend(HP.targets(config))


rule hessian_train:
    output:
        "results/hessian/train_{hrule}_{hfeedback}.nc",
    log:
        "logs/hessian/train_{hrule}_{hfeedback}.log",
    benchmark:
        "benchmarks/hessian/train_{hrule}_{hfeedback}.tsv"
    wildcard_constraints:
        hrule=HP.WILDCARDS["hrule"],
        hfeedback=HP.WILDCARDS["hfeedback"],
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
    params:
        options=lambda w: run_options(HP.train_options(config, w.hrule, w.hfeedback)),
        fail=lambda w: fail_switch("hessian_train"),
    shell:
        "{params.fail}python -m floss hessian-train {params.options} --threads {threads} "
        "--out {output} > {log} 2>&1"


rule hessian_curvature:
    input:
        unpack(lambda w: HP.network_file(config, w.htask, w.hdelay, w.hsched)),
    output:
        "results/hessian/flossing/curvature_{htask}_d{hdelay}_{hsched}.nc",
    log:
        "logs/hessian/curvature_{htask}_d{hdelay}_{hsched}.log",
    benchmark:
        "benchmarks/hessian/curvature_{htask}_d{hdelay}_{hsched}.tsv"
    wildcard_constraints:
        htask=HP.WILDCARDS["htask"],
        hdelay=HP.WILDCARDS["hdelay"],
        hsched=HP.WILDCARDS["hsched"],
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        options=lambda w: run_options(HP.curvature_options(config)),
        fail=lambda w: fail_switch("hessian_curvature"),
    shell:
        "{params.fail}python -m floss hessian-curvature {input.net} --data {input.data} "
        "{params.options} --threads {threads} --out {output} > {log} 2>&1"


rule hessian_figure:
    input:
        unpack(lambda w: HP.figure_inputs(config, w.hfigure)),
    output:
        png=report(
            "results/figures/{hfigure}.png",
            caption="../report/hessian.rst",
            category="Hessian",
        ),
        pdf="results/figures/{hfigure}.pdf",
        data="results/figures/{hfigure}.nc",
    log:
        "logs/hessian/figure_{hfigure}.log",
    benchmark:
        "benchmarks/hessian/figure_{hfigure}.tsv"
    wildcard_constraints:
        hfigure=HP.WILDCARDS["hfigure"],
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        inputs=lambda w, input: " ".join(f"--input {k}={v}" for k, v in input.items()),
        figure_params=lambda w: HP.figure_params(config, w.hfigure),
        prefix=lambda w: f"results/figures/{w.hfigure}",
        caption=lambda w: f"{w.hfigure}: {HP.FIGURES[w.hfigure]}.",
        fail=lambda w: fail_switch("hessian_figure"),
    shell:
        "{params.fail}python -m floss hessian-figure {wildcards.hfigure} {params.inputs} "
        "--params '{params.figure_params}' --out {params.prefix} > {log} 2>&1"
