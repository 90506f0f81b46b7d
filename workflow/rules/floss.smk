# Flossing: push k Lyapunov exponents toward a target (SPEC §1.4), batched over networks.


rule floss:
    input:
        "results/{exp}/{model}/init.nc",
    output:
        "results/{exp}/{model}/floss_k{k}_t{target}.nc",
    log:
        "logs/{exp}/{model}/floss_k{k}_t{target}.log",
    benchmark:
        "benchmarks/{exp}/{model}/floss_k{k}_t{target}.tsv"
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        options=lambda w: run_options(
            X.flossing_options(config, w.exp, int(w.k), float(w.target))
        ),
        fail=lambda w: fail_switch("floss"),
    shell:
        "{params.fail}python -m floss floss {input} {params.options} "
        "--threads {threads} --out {output} > {log} 2>&1"
