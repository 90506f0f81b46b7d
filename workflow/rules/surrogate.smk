# Surrogate gradient flossing of binary and spiking RNNs (docs/science.md §2): the compute stages of
# figures S1A-S2D, S3. The plan (files, options, checks, figures) is floss.surrogate.plan;
# the figures are made by the one `figure` rule (figures.smk).
from floss.surrogate import plan as SP


rule surrogate_init:
    output:
        results("surrogate/{sgroup}/init.nc"),
    log:
        logs("surrogate/{sgroup}/init.log"),
    benchmark:
        benchmarks("surrogate/{sgroup}/init.tsv")
    wildcard_constraints:
        sgroup=SP.WILDCARDS["sgroup"],
    conda:
        "../../envs/floss.yaml"
    threads: config["threads"]
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
        results("surrogate/{sgroup}/init.nc"),
    output:
        results("surrogate/{sgroup}/floss_k{sk}.nc"),
    log:
        logs("surrogate/{sgroup}/floss_k{sk}.log"),
    benchmark:
        benchmarks("surrogate/{sgroup}/floss_k{sk}.tsv")
    wildcard_constraints:
        sgroup=SP.WILDCARDS["sgroup"],
        sk=SP.WILDCARDS["sk"],
    conda:
        "../../envs/floss.yaml"
    threads: config["threads"]
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
        results("surrogate/{sgroup}/{sname}.nc"),
    output:
        results("surrogate/{sgroup}/spectrum_{sname}.nc"),
    log:
        logs("surrogate/{sgroup}/spectrum_{sname}.log"),
    benchmark:
        benchmarks("surrogate/{sgroup}/spectrum_{sname}.tsv")
    wildcard_constraints:
        sgroup=SP.WILDCARDS["sgroup"],
        sname=SP.WILDCARDS["sname"],
    conda:
        "../../envs/floss.yaml"
    threads: config["threads"]
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        options=lambda w: run_options(SP.spectrum_options(config, w.sgroup)),
    shell:
        "python -m floss surrogate-spectrum {input} {params.options} --threads {threads} "
        "--out {output} > {log} 2>&1"


SURROGATE_TRAIN = (
    "python -m floss surrogate-train {input} {params.options} --threads {threads} "
    "--out {output} > {log} 2>&1"
)
S2_BATCHES = SP.delay_batches(config)  # [] unless batch_delays: one job per delay


if not S2_BATCHES:

    rule surrogate_train:
        input:
            results("surrogate/xor/init.nc"),
        output:
            results("surrogate/xor/train_d{sd}_{smode}.nc"),
        log:
            logs("surrogate/xor/train_d{sd}_{smode}.log"),
        benchmark:
            benchmarks("surrogate/xor/train_d{sd}_{smode}.tsv")
        wildcard_constraints:
            sd=SP.WILDCARDS["sd"],
            smode=SP.WILDCARDS["smode"],
        conda:
            "../../envs/floss.yaml"
        threads: config["threads"]
        resources:
            mem_mb=2000,
            runtime=600,
        params:
            options=lambda w: run_options(SP.train_options(config, int(w.sd), w.smode)),
        shell:
            SURROGATE_TRAIN


# batch_delays: one job per flossing mode, all delays batched (d' = d/2 per network group)
for mode, delays in S2_BATCHES:
    stem = f"surrogate/xor/train_d{'-'.join(map(str, delays))}_{mode}"

    rule:
        name:
            f"surrogate_train_{mode}"
        input:
            results("surrogate/xor/init.nc"),
        output:
            [results(f"surrogate/xor/train_d{d}_{mode}.nc") for d in delays],
        log:
            logs(f"{stem}.log"),
        benchmark:
            benchmarks(f"{stem}.tsv")
        conda:
            "../../envs/floss.yaml"
        threads: config["threads"]
        resources:
            mem_mb=2000 + 500 * len(delays),
            runtime=600 * len(delays),
        params:
            options=run_options(
                {
                    **SP.train_options(config, delays[0], mode),
                    "delay": [d // 2 for d in delays],
                }
            ),
        shell:
            SURROGATE_TRAIN
