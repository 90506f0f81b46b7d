"""Every option and argument of every `python -m floss` stage has a one-line help text."""

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from floss.cli import build_parser


def _parsers():
    parser = build_parser()
    yield "(top level)", parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def test_every_option_has_a_one_line_help():
    missing, multiline = [], []
    for name, parser in _parsers():
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            label = f"{name} {action.option_strings[0] if action.option_strings else action.dest}"
            if not (action.help or "").strip():
                missing.append(label)
            elif "\n" in action.help:
                multiline.append(label)
    assert missing == [] and multiline == []


def test_every_stage_has_a_help_line():
    stages = dict(_parsers())
    del stages["(top level)"]
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in sub._choices_actions}
    assert sorted(helps) == sorted(stages) and all(helps.values())


def test_the_command_line_gives_big_tensors_huge_pages():
    """After `floss.cli.main` a 256 MB tensor is paged in by 2 MB pages (torch's
    THP_MEM_ALLOC_ENABLE): about a hundred page faults, not 65,536 of 4 KB."""
    script = (
        "import contextlib, resource, torch\n"
        "from floss.cli import main\n"
        "with contextlib.suppress(SystemExit):\n"
        "    main(['--version'])\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "torch.ones(2**26).sum()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "THP_MEM_ALLOC_ENABLE"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    thp = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    if not thp.exists() or "[never]" in thp.read_text():
        pytest.skip("no transparent huge pages on this machine")
    assert int(out.stdout.split()[-1]) < 10_000
