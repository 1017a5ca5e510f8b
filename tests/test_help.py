"""`qthybrid --help` is written for users: every argument explained, examples and exit codes shown."""

import argparse

from qthybrid.cli import build_parser


def _parsers(parser, path=("qthybrid",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, path + (name,))


def test_every_argument_of_every_command_has_help():
    missing = []
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(" ".join(path) + " " + (action.option_strings or [action.dest])[0])
    assert not missing, missing


def test_top_level_help_has_examples_and_exit_codes_and_no_developer_notes():
    text = build_parser().format_help()
    assert "examples:" in text and "qthybrid compare examples/demo.toml" in text
    for code in ("0 ", "1 ", "2 ", "3 "):
        assert f"\n  {code}" in text
    assert "argparse" not in text and "heavy import" not in text


def test_config_argument_is_explained_in_run_and_compare():
    parser = build_parser()
    for command in ("run", "compare"):
        sub = dict(_parsers(parser))[("qthybrid", command)]
        text = sub.format_help()
        assert "experiment file (TOML)" in text and "examples:" in text and "--quiet" in text
