# GAIT-prop vs BP vs TP in invertible networks (docs/science.md §4): one training job per
# data set, variant and rule (all seeds batched) and the accuracy table; figures G1-G2 go
# through the `figure` rule. File names and stage options come from floss.gait.plan.
from floss.gait import plan as GP


rule gait_train:
    output:
        GP.run_file(config, "{gdata}", "{gvariant}", "{grule}"),
    log:
        logs("gait/{gdata}/{gvariant}_{grule}.log"),
    benchmark:
        benchmarks("gait/{gdata}/{gvariant}_{grule}.tsv")
    wildcard_constraints:
        **GP.WILDCARDS,
    conda:
        "../../envs/floss.yaml"
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=600,
    params:
        options=lambda w: run_options(
            GP.train_options(config, w.gdata, w.gvariant, w.grule)
        ),
    shell:
        "python -m floss gait-train {params.options} "
        "--threads {threads} --out {output} > {log} 2>&1"


rule gait_table:
    input:
        unpack(lambda w: GP.table_inputs(config)),
    output:
        csv=f"{GP.table_stem(config)}.csv",
        md=f"{GP.table_stem(config)}.md",
    log:
        logs("gait/accuracy_table.log"),
    benchmark:
        benchmarks("gait/accuracy_table.tsv")
    conda:
        "../../envs/floss.yaml"
    threads: config["threads"]
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        options=lambda w, input: cli(
            {
                "input": [f"{label}={path}" for label, path in input.items()],
                "params": json.dumps(GP.table_params(config), sort_keys=True),
                "out": GP.table_stem(config),
            }
        ),
    shell:
        "python -m floss gait-table {params.options} > {log} 2>&1"
