# Analysis: no-grad spectra, long-term Jacobians, evaluation on fixed data.


rule spectrum:
    input:
        "results/{exp}/{model}/{name}.nc",
    output:
        "results/{exp}/{model}/spectrum_{name}.nc",
    log:
        "logs/{exp}/{model}/spectrum_{name}.log",
    benchmark:
        "benchmarks/{exp}/{model}/spectrum_{name}.tsv"
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        options=lambda w: run_options(X.spectrum_options(config, w.exp, w.model)),
        fail=lambda w: fail_switch("spectrum"),
    shell:
        "{params.fail}python -m floss spectrum {input} {params.options} "
        "--threads {threads} --out {output} > {log} 2>&1"


rule jacobian:
    input:
        "results/{exp}/{model}/{name}.nc",
    output:
        "results/{exp}/{model}/jacobian_{name}.nc",
    log:
        "logs/{exp}/{model}/jacobian_{name}.log",
    benchmark:
        "benchmarks/{exp}/{model}/jacobian_{name}.tsv"
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        options=lambda w: run_options(
            {"times": config[w.exp]["times"], "input": "task"}
        ),
        fail=lambda w: fail_switch("jacobian"),
    shell:
        "{params.fail}python -m floss jacobian {input} {params.options} --threads {threads} "
        "--out {output} > {log} 2>&1"


rule evaluate:
    input:
        network="results/{exp}/{model}/train_{task}_d{delay}_{schedule}.nc",
        data="results/data/{exp}/{task}_d{delay}.nc",
    output:
        "results/{exp}/{model}/eval_{task}_d{delay}_{schedule}.nc",
    log:
        "logs/{exp}/{model}/eval_{task}_d{delay}_{schedule}.log",
    benchmark:
        "benchmarks/{exp}/{model}/eval_{task}_d{delay}_{schedule}.tsv"
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        options=run_options({}),
        fail=lambda w: fail_switch("evaluate"),
    shell:
        "{params.fail}python -m floss evaluate {input.network} --data {input.data} "
        "{params.options} --threads {threads} --out {output} > {log} 2>&1"


rule scaling:
    output:
        "results/scaling/timings.nc",
    log:
        "logs/scaling/timings.log",
    benchmark:
        "benchmarks/scaling/timings.tsv"
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        options=lambda w: run_options(X.scaling_options(config)),
        fail=lambda w: fail_switch("scaling"),
    shell:
        "{params.fail}python -m floss scaling {params.options} --threads {threads} "
        "--out {output} > {log} 2>&1"
