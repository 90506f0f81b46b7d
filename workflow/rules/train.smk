# BPTT training with a flossing schedule (SPEC §1.3); pre-flossed runs start from the
# flossing stage's output and continue its Adam state.


rule train:
    input:
        lambda w: X.pretrained_input(w.exp, w.model, w.schedule, config[w.exp]["k"]),
    output:
        "results/{exp}/{model}/train_{task}_d{delay}_{schedule}.nc",
    log:
        "logs/{exp}/{model}/train_{task}_d{delay}_{schedule}.log",
    benchmark:
        "benchmarks/{exp}/{model}/train_{task}_d{delay}_{schedule}.tsv"
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        options=lambda w: run_options(
            X.train_options(config, w.exp, w.task, int(w.delay), w.schedule)
        ),
        fail=lambda w: fail_switch("train"),
    shell:
        "{params.fail}python -m floss train {input} {params.options} "
        "--threads {threads} --out {output} > {log} 2>&1"
