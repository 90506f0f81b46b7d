"""Every option and argument of every `python -m floss` stage has a one-line help text."""

import argparse

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
