"""Run every Svidok benchmark and print a summary table (``make bench``).

    .venv/bin/python bench/run_all.py [--only p1,p4] [--runs 3] [--cache warm|cold|both]
                                      [--scratch DIR] [--markdown FILE]

Each script runs in its own process, one after another (never two at once: they would
disturb each other's timings; ``sync`` and a pause in between), and prints its own lines.
At the end come the machine's description and one summary row per figure; ``--markdown
FILE`` also writes that summary as a Markdown table (for bench/RESULTS.md). Exit status:
0 when every script ran (whatever the verdicts), 1 when a script crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import BENCH, PYTHON, RESULTS_ENV, fmt, machine, source_digest

SCRIPTS = [
    ("p1", "p1_ingest_large.py"),
    ("p2", "p2_ingest_jpegs.py"),
    ("p3", "p3_verify.py"),
    ("p4", "p4_ledger_append.py"),
    ("p5", "p5_ledger_scale.py"),
    ("p6", "p6_pdq.py"),
    ("p7", "p7_search.py"),
    ("m1", "m1_ingest_memory.py"),
]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default="", help="comma-separated keys: p1,p2,p3,p4,p5,m1")
    p.add_argument("--runs", type=int, default=None, help="passed on to every script")
    p.add_argument("--cache", choices=("warm", "cold", "both"), default=None)
    p.add_argument("--scratch", type=Path, default=None, help="passed on to every script")
    p.add_argument("--pause", type=float, default=10.0, help="seconds between scripts (10)")
    p.add_argument("--markdown", type=Path, default=None, help="write the summary table here")
    args = p.parse_args()
    chosen = {k.strip().lower() for k in args.only.split(",") if k.strip()}
    unknown = chosen - {k for k, _ in SCRIPTS}
    if unknown:
        p.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    extra: list[str] = []
    if args.runs is not None:
        extra += ["--runs", str(args.runs)]
    if args.cache is not None:
        extra += ["--cache", args.cache]
    if args.scratch is not None:
        extra += ["--scratch", str(args.scratch.absolute())]

    fd, results_name = tempfile.mkstemp(prefix="svidok-bench-", suffix=".jsonl")
    os.close(fd)
    results = Path(results_name)
    env = os.environ | {RESULTS_ENV: str(results)}
    crashed: list[str] = []
    source_before = source_digest()
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    t0 = time.perf_counter()
    try:
        first = True
        for key, script in SCRIPTS:
            if chosen and key not in chosen:
                continue
            if not first:  # let write-back and discards of the last script's clean-up finish
                os.sync()
                time.sleep(args.pause)
            first = False
            print(flush=True)
            code = subprocess.run(
                [str(PYTHON), str(BENCH / script), *extra], env=env, check=False
            ).returncode
            if code != 0:
                crashed.append(f"{script} (exit {code})")
        figures = [json.loads(line) for line in results.read_text().splitlines() if line]
    finally:
        results.unlink(missing_ok=True)

    print(f"\n== Summary (started {started}, {time.perf_counter() - t0:.0f} s in all)")
    desc = machine(args.scratch.absolute() if args.scratch else None)
    for k, v in desc.items():
        print(f"# {k}: {v}")
    rows = [
        "| key | figure | measured | reference | ratio | target | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        verdict = "INFO" if f["passed"] is None else ("PASS" if f["passed"] else "FAIL")
        reference = (
            f"{f['reference_name']}: {fmt(f['reference'], f['unit'])}"
            if f["reference"] is not None
            else "-"
        )
        ratio = f"{f['ratio']:.2f}" if f["ratio"] is not None else "-"
        what = f["what"].strip() + (f" ({f['note']})" if f["note"] else "")
        rows.append(
            f"| {f['key']} | {what} | {fmt(f['value'], f['unit'])} | {reference} | {ratio} "
            f"| {f['target']} | {verdict} |"
        )
    print("\n".join(rows))
    if args.markdown is not None:
        head = [f"Run started {started}.", ""] + [f"- {k}: {v}" for k, v in desc.items()]
        args.markdown.write_text("\n".join([*head, "", *rows, ""]), encoding="utf-8")
    if source_digest() != source_before:
        print(f"\nWARNING: the source changed during the run (was {source_before})")
    judged = [f for f in figures if f["passed"] is not None]
    print(
        f"\n{sum(f['passed'] for f in judged)} of {len(judged)} judged figures PASS"
        + (f"; crashed: {', '.join(crashed)}" if crashed else "")
    )
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
