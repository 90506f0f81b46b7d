# One figure rule for every family: PDF, PNG and a NetCDF of the plotted data. Inputs,
# parameters and caption come from the figure's family plan (floss.families).


rule figure:
    input:
        unpack(lambda w: figure_plan(w.figure).figure_inputs(config, w.figure)),
    output:
        png=report(
            results("figures/{figure}.png"),
            caption="../report/figure.rst",
            category="Figures",
        ),
        pdf=results("figures/{figure}.pdf"),
        data=results("figures/{figure}.nc"),
    log:
        logs("figures/{figure}.log"),
    benchmark:
        benchmarks("figures/{figure}.tsv")
    wildcard_constraints:
        figure="|".join(f for plan in families.plans().values() for f in plan.FIGURES),
    conda:
        "../../envs/floss.yaml"
    threads: config["threads"]
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        options=figure_options,
        caption=lambda w: figure_plan(w.figure).figure_caption(config, w.figure),
    shell:
        "python -m floss figure {wildcards.figure} {params.options} > {log} 2>&1"


# The verdict table: every family's claims measured on the data of the figures above.
rule claims:
    input:
        unpack(
            lambda w: {
                f: f"{RESULTS}/figures/{f}.nc" for f in families.figures(config)
            }
        ),
    output:
        nc=results("claims.nc"),
        csv=report(
            results("claims.csv"),
            caption="../report/claims.rst",
            category="Claims (verdict table)",
        ),
        md=results("claims.md"),
    log:
        logs("claims.log"),
    benchmark:
        benchmarks("claims.tsv")
    conda:
        "../../envs/floss.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        options=lambda w, input: cli(
            {
                "input": [f"{label}={path}" for label, path in input.items()],
                "scale": config["scale"],
                "out": results("claims"),
            }
        ),
    shell:
        "python -m floss claims {params.options} > {log} 2>&1"
