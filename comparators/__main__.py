"""Command-line interface over the engine: `python -m comparators <command> ... [--json]`.

Contract (../shared/design.md): with --json, one JSON object on stdout; proportions are
fractions in [0, 1]. Bad input: exit code 2 and one plain-language line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from comparators.proportions import CI_METHODS, ProportionInputError, proportion_ci

EXIT_BAD_INPUT = 2


class CLIError(Exception):
    """Bad input the user can fix; printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage dump
        raise CLIError(f"{self.prog}: {message}")


def _whole_number(name: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, got {text!r}")
        if value < 0:
            raise argparse.ArgumentTypeError(f"{name} must not be negative, got {value}")
        return value

    return parse


def _fraction(name: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}")
        if not 0 < value < 1:
            raise argparse.ArgumentTypeError(f"{name} must be between 0 and 1, got {text}")
        return value

    return parse


def cmd_ci(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    ci = proportion_ci(args.k, args.n, method=args.method, level=args.level)
    text = f"{args.k}/{args.n} = {ci.as_percent()} [{CI_METHODS[ci.method]}]"
    return ci.to_dict(), text


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m comparators", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ci = commands.add_parser("ci", help="confidence interval for K responders of N evaluable")
    ci.add_argument("k", metavar="K", type=_whole_number("K (responders)"))
    ci.add_argument("n", metavar="N", type=_whole_number("N (evaluable)"))
    ci.add_argument("--method", choices=list(CI_METHODS), default="wilson")
    ci.add_argument("--level", type=_fraction("--level"), default=0.95)
    ci.set_defaults(run=cmd_ci)

    for sub in commands.choices.values():
        sub.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        payload, text = args.run(args)
    except (CLIError, ProportionInputError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(payload) if args.json else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
