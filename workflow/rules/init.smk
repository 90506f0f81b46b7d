# Network initialisation: all M networks of one condition in one file (SPEC §1.1).


rule init:
    output:
        "results/{exp}/{model}/init.nc",
    log:
        "logs/{exp}/{model}/init.log",
    benchmark:
        "benchmarks/{exp}/{model}/init.tsv"
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        options=lambda w: run_options(X.init_options(config, w.exp, w.model)),
        fail=lambda w: fail_switch("init"),
    shell:
        "{params.fail}python -m floss init {params.options} --threads {threads} "
        "--out {output} > {log} 2>&1"
