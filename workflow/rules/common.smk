# Helpers and target lists. The experiment plan itself lives in floss.experiments.
import json

from floss import experiments as X


wildcard_constraints:
    **X.WILDCARDS,


def check_config(cfg):
    """Schema and cross-field checks with a message naming the key, before any job."""
    try:
        X.check(
            cfg, X.load_schema(workflow.source_path("../schemas/config.schema.yaml"))
        )
    except X.ConfigError as exc:
        raise WorkflowError(str(exc)) from None


def cli(options):
    """Render a dict as command-line options (None and False are left out)."""
    parts = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            parts.append(flag)
        elif isinstance(value, (list, tuple)):
            parts.append(flag + " " + " ".join(str(v) for v in value))
        else:
            parts.append(f"{flag} {value}")
    return " ".join(parts)


def run_options(options):
    """Options of a compute stage plus the device; threads come from the rule's `threads`."""
    return f"{cli(options)} --device {config['device']} --no-progress"


def fail_switch(rule_name):
    """A test switch (config key fail_rule): make one rule fail on purpose."""
    if config.get("fail_rule") == rule_name:
        return f"echo 'fail_rule: {rule_name} fails on purpose' >&2; exit 1; "
    return ""


# Targets of the other paper families (surrogate, hessian, gait): each family's .smk file
# extends this list with its figures and results when its config block is enabled.
FAMILY_TARGETS = []


def all_targets():
    """Every figure and every intermediate result (all of them are products)."""
    figures = [f"results/figures/{f}.png" for f in X.figures(config)]
    return figures + X.result_files(config) + FAMILY_TARGETS
