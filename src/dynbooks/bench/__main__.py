"""``python -m dynbooks.bench NAME [ARGS]``: run one benchmark by name."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the named benchmark; exit code 2 for an unknown or missing name."""
    args = sys.argv[1:] if argv is None else argv
    name, rest = (args[0], args[1:]) if args else ("", [])
    if name == "allocate":
        from dynbooks.bench.allocate import main as run_allocate

        return run_allocate(rest)
    if name == "market-map":
        from dynbooks.bench.marketmap import main as run_market_map

        return run_market_map(rest)
    if name in ("cycle", "import"):
        from dynbooks.bench.cycle import main as run_cycle_bench

        return run_cycle_bench(rest, name)
    print(f"usage: python -m dynbooks.bench allocate|cycle|import|market-map [--json] (got {name!r})", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
