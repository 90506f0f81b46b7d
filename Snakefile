# floss: regenerate the figures of the gradient-flossing paper family (docs/science.md):
#   snakemake --cores 2                          quick scale (config.yaml)
#   snakemake --cores 2 --configfile config/smoke.yaml
#   snakemake --profile profiles/slurm --configfile config/paper.yaml
# Rules are thin: their plan is in floss/<family>/plan.py (see floss/families.py). Outputs go
# to results/<scale>/ (logs/<scale>/, benchmarks/<scale>/), scale being the config's key.

from snakemake.utils import min_version

min_version("8.0")


# config.yaml unless --configfile names another; a named file replaces it (not merged)
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


check_config(config)
# Every job's shell: bash strict mode; this workflow's own floss first on PYTHONPATH (jobs in a
# conda env from envs/floss.yaml, which does not install floss, run the same code); the
# failure tests' switch, with which `python -m floss` refuses the named rule's stage.
shell.prefix(job_prefix(config, workflow.basedir))


include: "workflow/rules/flossing.smk"
include: "workflow/rules/surrogate.smk"
include: "workflow/rules/hessian.smk"
include: "workflow/rules/gait.smk"
include: "workflow/rules/figures.smk"


check_fail_rule(config, workflow.rules)


rule all:
    default_target: True
    input:
        all_targets(),
