"""`make bench`: runs every benchmark script in bench/ in turn; each prints its table and writes JSON.

Run one with `python bench/<name>.py`. A failing benchmark does not stop the others; the exit code is
non-zero if any failed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SKIP = {"run.py", "common.py", "__init__.py"}


def main(names: list[str]) -> int:
    scripts = sorted(p for p in HERE.glob("*.py") if p.name not in SKIP and (not names or p.stem in names))
    failed = []
    for script in scripts:
        print(f"\n=== bench/{script.name}", flush=True)
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        if code != 0:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    print(f"\nall {len(scripts)} benchmarks finished; results in bench/results/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
