"""`python -m bench [--quick] [--out DIR]`: run the benchmarks and write the report.

A full run takes about five minutes on two cores and writes `docs/benchmarks.md` and
`docs/benchmarks.json`. `--quick` is a smoke run (small N, one round, about a minute) that
writes to a temporary directory unless `--out` is given, so it never overwrites the real
results.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .report import write_report
from .results import Plan
from .run import run_benchmarks

DOCS = Path(__file__).resolve().parents[1] / "docs"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small N, one round")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"directory for benchmarks.md/.json (default: {DOCS}; a temp dir with --quick)",
    )
    args = parser.parse_args(argv)
    out: Path = args.out or (
        Path(tempfile.gettempdir()) / "truto-bench-quick" if args.quick else DOCS
    )
    results = run_benchmarks(Plan.quick_smoke() if args.quick else Plan.full())
    markdown, raw = write_report(results, out)
    print(f"wrote {markdown} and {raw} ({results.seconds:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
