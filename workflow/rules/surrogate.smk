# Surrogate gradient flossing of binary and spiking RNNs (SPEC §2): figures S1A-S2D, S3.
# The plan (files, options, cross-field checks) lives in floss.surrogate.plan.
from floss.surrogate import plan as SP

if config.get("surrogate", {}).get("enabled"):
    try:
        SP.check(config["surrogate"])
    except X.ConfigError as exc:
        raise WorkflowError(str(exc)) from None
    FAMILY_TARGETS.extend(SP.targets(config["surrogate"]))


rule surrogate_init:
    output:
        "results/surrogate/{sgroup}/init.nc",
    log:
        "logs/surrogate/{sgroup}/init.log",
    benchmark:
        "benchmarks/surrogate/{sgroup}/init.tsv"
    wildcard_constraints:
        sgroup=SP.WILDCARDS["sgroup"],
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        options=lambda w: run_options(SP.init_options(config, w.sgroup)),
    shell:
        "python -m floss surrogate-init {params.options} --threads {threads} "
        "--out {output} > {log} 2>&1"


rule surrogate_floss:
    input:
        "results/surrogate/{sgroup}/init.nc",
    output:
        "results/surrogate/{sgroup}/floss_k{sk}.nc",
    log:
        "logs/surrogate/{sgroup}/floss_k{sk}.log",
    benchmark:
        "benchmarks/surrogate/{sgroup}/floss_k{sk}.tsv"
    wildcard_constraints:
        sgroup=SP.WILDCARDS["sgroup"],
        sk=SP.WILDCARDS["sk"],
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        options=lambda w: run_options(SP.floss_options(config, w.sgroup, int(w.sk))),
    shell:
        "python -m floss surrogate-floss {input} {params.options} --threads {threads} "
        "--out {output} > {log} 2>&1"


rule surrogate_spectrum:
    input:
        "results/surrogate/{sgroup}/{sname}.nc",
    output:
        "results/surrogate/{sgroup}/spectrum_{sname}.nc",
    log:
        "logs/surrogate/{sgroup}/spectrum_{sname}.log",
    benchmark:
        "benchmarks/surrogate/{sgroup}/spectrum_{sname}.tsv"
    wildcard_constraints:
        sgroup=SP.WILDCARDS["sgroup"],
        sname=SP.WILDCARDS["sname"],
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        options=lambda w: run_options(SP.spectrum_options(config, w.sgroup)),
    shell:
        "python -m floss surrogate-spectrum {input} {params.options} --threads {threads} "
        "--out {output} > {log} 2>&1"


rule surrogate_train:
    input:
        "results/surrogate/xor/init.nc",
    output:
        "results/surrogate/xor/train_d{sd}_{smode}.nc",
    log:
        "logs/surrogate/xor/train_d{sd}_{smode}.log",
    benchmark:
        "benchmarks/surrogate/xor/train_d{sd}_{smode}.tsv"
    wildcard_constraints:
        sd=SP.WILDCARDS["sd"],
        smode=SP.WILDCARDS["smode"],
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=600,
    params:
        options=lambda w: run_options(SP.train_options(config, int(w.sd), w.smode)),
    shell:
        "python -m floss surrogate-train {input} {params.options} --threads {threads} "
        "--out {output} > {log} 2>&1"


rule surrogate_figure:
    input:
        unpack(lambda w: SP.figure_inputs(config["surrogate"], w.sfig)),
    output:
        png=report(
            "results/figures/{sfig}.png",
            caption="../report/surrogate.rst",
            category="Surrogate gradient flossing",
        ),
        pdf="results/figures/{sfig}.pdf",
        data="results/figures/{sfig}.nc",
    log:
        "logs/surrogate/figures/{sfig}.log",
    benchmark:
        "benchmarks/surrogate/figures/{sfig}.tsv"
    wildcard_constraints:
        sfig=SP.WILDCARDS["sfig"],
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        inputs=lambda w, input: " ".join(f"--input {k}={v}" for k, v in input.items()),
        figure_params=lambda w: json.dumps(SP.figure_params(config, w.sfig)),
        prefix=lambda w: f"results/figures/{w.sfig}",
    shell:
        "python -m floss surrogate-figure {wildcards.sfig} {params.inputs} "
        "--params '{params.figure_params}' --out {params.prefix} > {log} 2>&1"
