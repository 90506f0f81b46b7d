# floss: regenerate the figures of the gradient-flossing paper family (docs/science.md):
#   snakemake --cores 2                          quick scale (config.yaml)
#   snakemake --cores 2 --configfile config/smoke.yaml
#   snakemake --profile profiles/slurm --configfile config/paper.yaml
# Rules are thin: their plan is in floss/<family>/plan.py (see floss/families.py).
import os

from snakemake.utils import min_version

min_version("8.0")


# config.yaml unless --configfile names another; a named file replaces it (not merged)
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


check_config(config)
# fault-injection switch of the failure tests: `python -m floss` refuses the named rule's stage
os.environ["FLOSS_FAIL_RULE"] = config.get("fail_rule", "")


include: "workflow/rules/flossing.smk"
include: "workflow/rules/surrogate.smk"
include: "workflow/rules/hessian.smk"
include: "workflow/rules/gait.smk"
include: "workflow/rules/figures.smk"


rule all:
    default_target: True
    input:
        all_targets(),
