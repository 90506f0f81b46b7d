# Hessian analysis of RNN losses (BiolHessRNN, docs/science.md §3): BPTT vs three-factor training with
# curvature tracking (H1-H3) and the curvature of gradient-flossing networks (H4). File names
# and stage options come from floss.hessian.plan; the figures are the common `figure` rule.
from floss.hessian import plan as HP


rule hessian_train:
    output:
        results("hessian/train_{hrule}_{hfeedback}.nc"),
    log:
        logs("hessian/train_{hrule}_{hfeedback}.log"),
    benchmark:
        benchmarks("hessian/train_{hrule}_{hfeedback}.tsv")
    wildcard_constraints:
        hrule=HP.WILDCARDS["hrule"],
        hfeedback=HP.WILDCARDS["hfeedback"],
    conda:
        "../../envs/floss.yaml"
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=240,
    params:
        options=lambda w: run_options(HP.train_options(config, w.hrule, w.hfeedback)),
    shell:
        "python -m floss hessian-train {params.options} --threads {threads} "
        "--out {output} > {log} 2>&1"


rule hessian_curvature:
    input:
        unpack(lambda w: HP.network_file(config, w.htask, w.hdelay, w.hsched)),
    output:
        results("hessian/flossing/curvature_{htask}_d{hdelay}_{hsched}.nc"),
    log:
        logs("hessian/curvature_{htask}_d{hdelay}_{hsched}.log"),
    benchmark:
        benchmarks("hessian/curvature_{htask}_d{hdelay}_{hsched}.tsv")
    wildcard_constraints:
        htask=HP.WILDCARDS["htask"],
        hdelay=HP.WILDCARDS["hdelay"],
        hsched=HP.WILDCARDS["hsched"],
    conda:
        "../../envs/floss.yaml"
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        options=lambda w: run_options(HP.curvature_options(config)),
    shell:
        "python -m floss hessian-curvature {input.net} --data {input.data} "
        "{params.options} --threads {threads} --out {output} > {log} 2>&1"
