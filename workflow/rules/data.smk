# Data generation: fixed evaluation sets of the tasks (SPEC §1.2).


rule data:
    output:
        "results/data/{exp}/{task}_d{delay}.nc",
    log:
        "logs/data/{exp}/{task}_d{delay}.log",
    benchmark:
        "benchmarks/data/{exp}/{task}_d{delay}.tsv"
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        options=lambda w: cli(X.data_options(config, w.exp, w.task, int(w.delay))),
        fail=lambda w: fail_switch("data"),
    shell:
        "{params.fail}python -m floss data {params.options} --out {output} > {log} 2>&1"
