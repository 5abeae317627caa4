"""The ``recs`` command. Each command group lives in its own module exposing
``add_commands(subparsers)``; heavy imports (TensorFlow) happen inside the handlers."""

from __future__ import annotations

import argparse
import importlib
import sys

# One line per command group; each module keeps TensorFlow imports inside its handlers.
COMMAND_MODULES = [
    "recs_ml.cli.data",
    "recs_ml.cli.registry",
    "recs_ml.cli.serve",
    "recs_ml.cli.pipeline",
    "recs_ml.cli.train",
]


class UserError(Exception):
    """A problem the person running the command can fix; printed without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recs", description="Recommendations: data to endpoint.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(subparsers)
    completion = subparsers.add_parser(
        "completion", help='print the shell completion script: eval "$(recs completion bash)"'
    )
    completion.add_argument("shell", choices=("bash", "zsh"))
    completion.set_defaults(handler=lambda args: _print_completion(args.shell, parser))
    return parser


def _print_completion(shell: str, parser: argparse.ArgumentParser) -> int:
    from recs_ml.cli.completion import script

    print(script(shell, parser), end="")
    return 0


def main(argv: list[str] | None = None) -> int:
    from recs_ml.data.datasets import DataError
    from recs_ml.data.embedded import FetchError

    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (UserError, DataError, FetchError, FileNotFoundError, ValueError) as exc:
        print(f"recs: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
