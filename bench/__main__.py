"""`python -m bench [--quick] [--out DIR]`: run the host benchmark (sections 1-6).

A full run takes about four minutes on two cores; it rewrites docs/benchmarks.md, keeping the
section of `python -m bench.engine`, and writes the raw numbers to build/bench/. `--quick` is a
smoke run (small N, one round) that writes to a temporary directory unless `--out` is given.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from .report import write_markdown
from .run import FULL, QUICK, run

ROOT = Path(__file__).resolve().parents[1]

parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
parser.add_argument("--quick", action="store_true", help="smoke run: small N, one round")
parser.add_argument("--out", type=Path, help="write benchmarks.md and .json here instead")
args = parser.parse_args()
out: Path | None = args.out or (Path(tempfile.mkdtemp(prefix="bench-")) if args.quick else None)
markdown = out / "benchmarks.md" if out else ROOT / "docs" / "benchmarks.md"
raw = out / "benchmarks.json" if out else ROOT / "build" / "bench" / "benchmarks.json"
body, numbers = run(QUICK if args.quick else FULL)
write_markdown(markdown, body=body)
raw.parent.mkdir(parents=True, exist_ok=True)
raw.write_text(numbers, encoding="utf-8")
print(body, file=sys.stdout)
print(f"wrote {markdown} and {raw}", file=sys.stderr)
