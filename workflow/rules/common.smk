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


def cli(options):
    """A dict as command-line options, every value shell-quoted (None/False are left out)."""
    parts = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
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
    figures = [f"results/figures/{f}.png" for f in families.figures(config)]
    return figures + families.result_files(config) + ["results/claims.md"]
