"""Mutation score per module from a finished ``mutmut run`` (``make mutation``; docs/testing.md).

Usage: ``python tests/mutation_report.py PATTERN...`` in the repository root, with the same
mutant-name patterns the run was given. Reads mutmut's result files (``mutants/<path>.meta``),
prints killed / total per module and every mutant that was not killed, and exits 1 when a
module scores under the target.
"""

from __future__ import annotations

import fnmatch
import json
import sys
from collections import Counter
from pathlib import Path

#: The issue's target: at least this share of each module's mutants killed.
TARGET = 0.85
#: mutmut's exit codes of a worker that count as a kill (a failing test, pytest's internal
#: error); every other code (0 survived, 33 no tests, 36 timeout, None not run, ...) does not.
KILLED = {1, 3}


def main(patterns: list[str]) -> int:
    """Print the per-module table and the mutants not killed; 1 if any module is under target."""
    if not patterns:
        print("usage: mutation_report.py PATTERN...", file=sys.stderr)
        return 2
    metas = sorted(Path("mutants").rglob("*.py.meta"))
    if not metas:
        print("no mutmut results under mutants/: run `make mutation`", file=sys.stderr)
        return 2
    rows: list[tuple[str, int, int]] = []  # (source file, mutants, killed)
    not_killed: list[tuple[str, str]] = []  # (mutant, status)
    for meta in metas:
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        ours = {k: v for k, v in codes.items() if any(fnmatch.fnmatch(k, p) for p in patterns)}
        if not ours:
            continue
        for name in sorted(ours, key=_natural):
            if ours[name] not in KILLED:
                not_killed.append((name, _STATUS.get(ours[name], f"exit code {ours[name]}")))
        source = str(meta.relative_to("mutants")).removesuffix(".meta")
        rows.append((source, len(ours), sum(v in KILLED for v in ours.values())))
    total, killed = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print("| module | killed | mutants | score |\n|---|---:|---:|---:|")
    for path, n, k in rows:
        print(f"| `{path}` | {k} | {n} | {k / n:.1%} |")
    print(f"| all | {killed} | {total} | {killed / max(total, 1):.1%} |")
    counts = Counter(status for _, status in not_killed)
    print(f"\nnot killed: {len(not_killed)} ({', '.join(f'{n} {s}' for s, n in counts.items())})")
    for name, status in not_killed:
        print(f"  {name}: {status}   (mutmut show {name})")
    low = [path for path, n, k in rows if k / n < TARGET]
    if low:
        print(f"\nunder the {TARGET:.0%} target: {', '.join(low)}", file=sys.stderr)
        return 1
    return 0


#: mutmut's names of the other exit codes (-24 and friends: the worker ran out of CPU time).
_STATUS = {
    0: "survived",
    5: "no tests",
    33: "no tests",
    36: "timeout",
    -24: "timeout",
    24: "timeout",
    152: "timeout",
    None: "not checked",
}


def _natural(name: str) -> tuple[str, int]:
    """``f__mutmut_10`` after ``f__mutmut_9``."""
    stem, _, number = name.rpartition("__mutmut_")
    return stem, int(number) if number.isdigit() else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
