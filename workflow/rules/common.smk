# Helpers of every rule file. The plan (file names, stage options, captions) lives in the
# families' plan modules (floss/<family>/plan.py, listed by floss.families); rules only
# look things up there.
import json
import shlex

from floss import families
from floss.core import plan as P
from floss.core.errors import FlossError


def check_config(cfg):
    """Schema, then every family's cross-field rules: one line naming the key, before any job."""
    try:
        schema = workflow.source_path("../schemas/config.schema.yaml")
        families.validate(cfg, P.load_schema(schema))
    except FlossError as exc:
        raise WorkflowError(str(exc)) from None


def output_dir(cfg, top):
    """results/<scale> (logs/<scale>, benchmarks/<scale>): each config scale has its own, so a
    smoke run never overwrites the quick figures."""
    try:
        return P.results_dir(cfg, top)
    except FlossError as exc:
        raise WorkflowError(str(exc)) from None


RESULTS = output_dir(config, "results")
LOGS = output_dir(config, "logs")
BENCHMARKS = output_dir(config, "benchmarks")


# Every rule's output, log and benchmark path (calls, not `+`: snakemake --lint refuses
# path composition with `+`, and f-strings would double every wildcard's braces).
def results(path):
    return f"{RESULTS}/{path}"


def logs(path):
    return f"{LOGS}/{path}"


def benchmarks(path):
    return f"{BENCHMARKS}/{path}"


def job_prefix(cfg, basedir):
    """The shell prefix of every job. Snakemake formats it like a rule's shell command, so
    braces are doubled (also inside the quoted values)."""

    def value(text):
        return shlex.quote(str(text)).replace("{", "{{").replace("}", "}}")

    prefix = f"set -euo pipefail; export PYTHONPATH={value(basedir)}${{{{PYTHONPATH:+:$PYTHONPATH}}}}; "
    if cfg.get("fail_rule"):
        prefix += f"export FLOSS_FAIL_RULE={value(cfg['fail_rule'])}; "
    return prefix


def check_fail_rule(cfg, rules):
    """The test switch `fail_rule` must name a rule that runs a floss stage."""
    names = sorted(r.name for r in rules if r.name != "all")
    if cfg.get("fail_rule") and cfg["fail_rule"] not in names:
        raise WorkflowError(
            f"config key fail_rule: {cfg['fail_rule']!r} is no rule; allowed: {names}"
        )


def cli(options):
    """A dict as command-line options, every value shell-quoted (None/False are left out)."""
    parts = []
    for key, value in options.items():
        flag = f"--{key.replace('_', '-')}"
        if value is None or value is False:
            continue
        if value is True:
            parts.append(flag)
        elif isinstance(value, (list, tuple)):
            parts.append(" ".join([flag, *(shlex.quote(str(v)) for v in value)]))
        else:
            parts.append(f"{flag} {shlex.quote(str(value))}")
    return " ".join(parts)


def run_options(options):
    """Options of a compute stage plus the device; threads come from the rule's `threads`."""
    return cli({**options, "device": config["device"]}) + " --no-progress"


def all_targets():
    """Every figure and every intermediate result (all of them are products)."""
    figures = [f"{RESULTS}/figures/{f}.png" for f in families.figures(config)]
    return figures + families.result_files(config) + [f"{RESULTS}/claims.md"]


# Figures (figures.smk): each figure's plan is its family's plan module.
def figure_plan(figure):
    return families.part(families.family_of(figure), "plan")


def figure_options(w, input):
    plan = figure_plan(w.figure)
    labelled = [f"{label}={path}" for label, path in input.items()]
    return cli(
        {
            "input": labelled,
            "params": json.dumps(plan.figure_params(config, w.figure), sort_keys=True),
            "out": f"{RESULTS}/figures/{w.figure}",
        }
    )
