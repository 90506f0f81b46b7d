# floss: regenerate the gradient-flossing paper's figures (claims 1-7 of SPEC §1.5).
#   snakemake --cores 2                          quick scale (config.yaml)
#   snakemake --cores 2 --configfile config/smoke.yaml
#   snakemake --profile profiles/slurm --configfile config/paper.yaml
from snakemake.utils import min_version, validate

min_version("8.0")


# config.yaml unless --configfile names another; a named file replaces it (not merged)
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


validate(config, "workflow/schemas/config.schema.yaml")
check_config(config)


include: "workflow/rules/data.smk"
include: "workflow/rules/init.smk"
include: "workflow/rules/floss.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/gait.smk"
include: "workflow/rules/surrogate.smk"
include: "workflow/rules/hessian.smk"


rule all:
    default_target: True
    input:
        all_targets(),
