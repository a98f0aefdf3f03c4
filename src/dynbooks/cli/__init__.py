"""The ``dynbooks`` command line (SPEC §8–10): parse, call a service, print a table or one JSON document.

Global options (``--db --config --as-of --wait --json``) may stand before or after the command: they are
moved to the front before Typer parses, so ``dynbooks cycle --json`` and ``dynbooks --json cycle`` agree.
Exit codes: 0 ok, 2 usage, 3 invalid input, 4 not found, 5 refused by a rule.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import typer

from dynbooks.cli.output import emit_error
from dynbooks.cli.state import GLOBAL_FLAGS, GLOBAL_OPTIONS, Globals
from dynbooks.domain.errors import DynbooksError
from dynbooks.store.db import DEFAULT_URL

__all__ = ["app", "main"]

app = typer.Typer(
    name="dynbooks",
    help="Dynamic book management: match reps' free capacity with the best available accounts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _globals(
    ctx: typer.Context,
    db: str = typer.Option(DEFAULT_URL, "--db", help="Database URL: sqlite:///FILE or postgresql://…"),
    config: str | None = typer.Option(
        None, "--config", help="dynbooks.toml (default: $DYNBOOKS_CONFIG, ./dynbooks.toml)"
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="Run as of this ISO date or datetime."),
    json_: bool = typer.Option(False, "--json", help="Print one JSON document on stdout."),
    wait: float = typer.Option(30.0, "--wait", help="Seconds to wait for a running cycle's lock."),
) -> None:
    ctx.obj = Globals(db=db, config=config, as_of=as_of, json=json_, wait=wait)


def hoist_globals(argv: Sequence[str]) -> list[str]:
    """Move global options found after the command to the front (values included)."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        name = arg.split("=", 1)[0]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if name in GLOBAL_OPTIONS:
            if "=" in arg:
                front.append(arg)
            else:
                front.extend(argv[i:i + 2])
                i += 1
        elif arg in GLOBAL_FLAGS:
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def main(argv: Sequence[str] | None = None) -> None:
    from dynbooks.cli import commands  # noqa: F401  (registers the commands)

    args = hoist_globals(list(sys.argv[1:] if argv is None else argv))
    as_json = "--json" in args
    try:
        # Typer reports usage errors itself (stderr, exit 2); dynbooks' own errors propagate to here.
        app(args=args, prog_name="dynbooks")
    except DynbooksError as exc:
        sys.exit(emit_error(exc, as_json))
    except SystemExit as exc:
        if exc.code == 2 and as_json:
            sys.stdout.write(json.dumps({"error": {"exit_code": 2, "message": "usage error (see stderr)",
                                                   "details": []}}) + "\n")
        raise
