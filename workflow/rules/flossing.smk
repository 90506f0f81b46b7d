# Gradient flossing (docs/science.md §1): evaluation sets, network initialisation,
# flossing, BPTT training with flossing schedules, spectra, long-term Jacobians, evaluation
# and the scaling scan. File names and options come from floss.flossing.plan.
from floss.flossing import plan as FP


wildcard_constraints:
    **FP.WILDCARDS,


rule data:
    output:
        results("data/{exp}/{task}_d{delay}.nc"),
    log:
        logs("data/{exp}/{task}_d{delay}.log"),
    benchmark:
        benchmarks("data/{exp}/{task}_d{delay}.tsv")
    conda:
        "../../envs/floss.yaml"
    threads: config["threads"]
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        options=lambda w: cli(FP.data_options(config, w.exp, w.task, int(w.delay))),
    shell:
        "python -m floss data {params.options} --out {output} > {log} 2>&1"


rule init:
    output:
        results("{exp}/{model}/init.nc"),
    log:
        logs("{exp}/{model}/init.log"),
    benchmark:
        benchmarks("{exp}/{model}/init.tsv")
    conda:
        "../../envs/floss.yaml"
    threads: config["threads"]
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        options=lambda w: run_options(FP.init_options(config, w.exp, w.model)),
    shell:
        "python -m floss init {params.options} --threads {threads} "
        "--out {output} > {log} 2>&1"


rule floss:
    input:
        results("{exp}/{model}/init.nc"),
    output:
        results("{exp}/{model}/floss_k{k}_t{target}.nc"),
    log:
        logs("{exp}/{model}/floss_k{k}_t{target}.log"),
    benchmark:
        benchmarks("{exp}/{model}/floss_k{k}_t{target}.tsv")
    conda:
        "../../envs/floss.yaml"
    threads: config["threads"]
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        options=lambda w: run_options(
            FP.flossing_options(config, w.exp, int(w.k), float(w.target))
        ),
    shell:
        "python -m floss floss {input} {params.options} "
        "--threads {threads} --out {output} > {log} 2>&1"


TRAIN = (
    "python -m floss train {input} {params.options} "
    "--threads {threads} --out {output} > {log} 2>&1"
)
BATCHES = FP.delay_batches(config)  # [] unless batch_delays: one job per delay


if not BATCHES:

    rule train:
        input:
            lambda w: FP.pretrained_input(config, w.exp, w.model, w.schedule),
        output:
            results("{exp}/{model}/train_{task}_d{delay}_{schedule}.nc"),
        log:
            logs("{exp}/{model}/train_{task}_d{delay}_{schedule}.log"),
        benchmark:
            benchmarks("{exp}/{model}/train_{task}_d{delay}_{schedule}.tsv")
        conda:
            "../../envs/floss.yaml"
        threads: config["threads"]
        resources:
            mem_mb=2000,
            runtime=120,
        params:
            options=lambda w: run_options(
                FP.train_options(config, w.exp, w.task, int(w.delay), w.schedule)
            ),
        shell:
            TRAIN


# batch_delays: one job per (experiment, model, task, schedule), all its delays batched
for exp, model, task, schedule, delays in BATCHES:
    stem = f"{exp}/{model}/train_{task}_d{'-'.join(map(str, delays))}_{schedule}"

    rule:
        name:
            f"train_{exp}_{model}_{task}_{schedule}".replace("-", "_")
        input:
            FP.pretrained_input(config, exp, model, schedule),
        output:
            [results(f"{exp}/{model}/train_{task}_d{d}_{schedule}.nc") for d in delays],
        log:
            logs(f"{stem}.log"),
        benchmark:
            benchmarks(f"{stem}.tsv")
        conda:
            "../../envs/floss.yaml"
        threads: config["threads"]
        resources:
            mem_mb=2000 + 500 * len(delays),
            runtime=60 + 60 * len(delays),
        params:
            options=run_options(
                {
                    **FP.train_options(config, exp, task, delays[0], schedule),
                    "delay": delays,
                }
            ),
        shell:
            TRAIN


rule spectrum:
    input:
        results("{exp}/{model}/{name}.nc"),
    output:
        results("{exp}/{model}/spectrum_{name}.nc"),
    log:
        logs("{exp}/{model}/spectrum_{name}.log"),
    benchmark:
        benchmarks("{exp}/{model}/spectrum_{name}.tsv")
    conda:
        "../../envs/floss.yaml"
    threads: config["threads"]
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        options=lambda w: run_options(FP.spectrum_options(config, w.exp, w.model)),
    shell:
        "python -m floss spectrum {input} {params.options} "
        "--threads {threads} --out {output} > {log} 2>&1"


rule jacobian:
    input:
        results("{exp}/{model}/{name}.nc"),
    output:
        results("{exp}/{model}/jacobian_{name}.nc"),
    log:
        logs("{exp}/{model}/jacobian_{name}.log"),
    benchmark:
        benchmarks("{exp}/{model}/jacobian_{name}.tsv")
    conda:
        "../../envs/floss.yaml"
    threads: config["threads"]
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        options=lambda w: run_options(
            {"times": config[w.exp]["times"], "input": "task"}
        ),
    shell:
        "python -m floss jacobian {input} {params.options} --threads {threads} "
        "--out {output} > {log} 2>&1"


rule evaluate:
    input:
        network=results("{exp}/{model}/train_{task}_d{delay}_{schedule}.nc"),
        data=results("data/{exp}/{task}_d{delay}.nc"),
    output:
        results("{exp}/{model}/eval_{task}_d{delay}_{schedule}.nc"),
    log:
        logs("{exp}/{model}/eval_{task}_d{delay}_{schedule}.log"),
    benchmark:
        benchmarks("{exp}/{model}/eval_{task}_d{delay}_{schedule}.tsv")
    conda:
        "../../envs/floss.yaml"
    threads: config["threads"]
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        options=run_options({}),
    shell:
        "python -m floss evaluate {input.network} --data {input.data} "
        "{params.options} --threads {threads} --out {output} > {log} 2>&1"


rule scaling:
    output:
        results("scaling/timings.nc"),
    log:
        logs("scaling/timings.log"),
    benchmark:
        benchmarks("scaling/timings.tsv")
    conda:
        "../../envs/floss.yaml"
    threads: config["threads"]
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        options=lambda w: run_options(FP.scaling_options(config)),
    shell:
        "python -m floss scaling {params.options} --threads {threads} "
        "--out {output} > {log} 2>&1"
