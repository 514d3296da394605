"""The LLM judge batched by length against one answer at a time, side by side on the same answers in one run.

`speechnb.judge.judging.judge_rows` with the default settings (the embedded Qwen2.5-Coder-1.5B-Instruct on CTranslate2
int8, the speech rubric, the judge's own reference answer first, the listening judge on top), as the judge and DPO
steps run it:

1. batched: references and scores in batches of `--batch-size` answers of similar length (the default, 8)
2. one at a time: the same calls with batch size 1

Answers: the good and the bad answer of check pairs (`data/judge_check.jsonl`, test half), taken round-robin over
the six kinds so that any count has the same mix of lengths. Each side starts from an empty judge cache (a
temporary folder), so every reference and every score is computed; in the pipeline the cache makes a rerun free.
Reported: answers judged per second (reference answers included), the share of the time spent writing the
reference answers, and how far the two sides' overall scores differ.

    python benchmarks/bench_judge.py [--quick] [--pairs 24] [--batch-size 8]

`--quick` judges 8 pairs instead of 24, at the same batch size: the same full batches of the same kinds of answers,
fewer of them, so its ratio reads like the full run's.
Last line: `RATIO judge_batched_vs_one_at_a_time <value>` (answers judged per second, batched over one at a time).
"""

import argparse
import math
import os
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from speechnb.judge import judging  # noqa: E402
from speechnb.judge.calibration import CHECK_KINDS, read_check_pairs  # noqa: E402
from speechnb.engines import ContentCache  # noqa: E402


def check_answers(pairs: int) -> list[dict]:
    "The good and bad answers of `pairs` test-half check pairs, round-robin over the kinds."
    rows = [r for r in read_check_pairs() if r["split"] == "test"]
    by_kind = {kind: sorted((r for r in rows if r["kind"] == kind), key=lambda r: r["id"]) for kind in CHECK_KINDS}
    chosen = [by_kind[kind][i] for i in range(10) for kind in CHECK_KINDS if i < len(by_kind[kind])][:pairs]
    return [dict(prompt=r["prompt"], response=r[side]) for r in chosen for side in ("good", "bad")]


def empty_cache(folder: str) -> None:
    "Point the judge's cache at `folder` (a fresh one per side: every judgement is computed)."

    class FolderCache(ContentCache):
        def __init__(self, identity: str):
            super().__init__(identity, folder)

    judging.JudgeCache = FolderCache


def side(judge, rows: list[dict], batch_size: int) -> dict:
    "Seconds writing references and scoring, and the overall scores, of one side from an empty cache."
    config = judging.JudgeConfig(batch_size=batch_size)
    with tempfile.TemporaryDirectory() as folder:
        empty_cache(folder)
        started = time.perf_counter()
        judging.reference_answers([r["prompt"] for r in rows], config, judge, progress=False)
        written = time.perf_counter()
        judged = judging.judge_rows(rows, config, judge, progress=False)  # references now come from the cache
        done = time.perf_counter()
    return dict(reference_s=written - started, score_s=done - written, overall=[j["judge"]["overall"] for j in judged])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 check pairs (16 answers) instead of 24, same batches")
    parser.add_argument("--pairs", type=int, default=24, help="check pairs; both answers of each are judged")
    parser.add_argument("--batch-size", type=int, default=judging.JudgeConfig().batch_size)
    args = parser.parse_args()
    pairs = 8 if args.quick else args.pairs
    rows = check_answers(pairs)
    config = judging.JudgeConfig()
    judge = judging.load_judge(config)
    print(
        f"judge {judge.identity.split('|')[0]} ({judge.identity.split('|')[1]}), {len(rows)} answers to {pairs} check "
        f"prompts, batch {args.batch_size} by length vs 1, reference answers <= {config.reference_tokens} tokens, "
        f"listening judge, {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f})"
    )
    side(judge, check_answers(1)[:1], 1)  # warm-up: first-call allocations are not part of any side
    results = {"batched by length": side(judge, rows, args.batch_size), "one at a time": side(judge, rows, 1)}
    speed = {}
    references = len({r["prompt"] for r in rows})
    for name, result in results.items():
        seconds = result["reference_s"] + result["score_s"]
        speed[name] = len(rows) / seconds
        print(
            f"{name:18s} {references} references in {result['reference_s']:6.1f} s + {len(rows)} answers scored in "
            f"{result['score_s']:6.1f} s = {speed[name]:.2f} answers/s "
            f"({result['reference_s'] / seconds:.0%} of the time writing references)"
        )
    batched, single = results["batched by length"]["overall"], results["one at a time"]["overall"]
    gaps = [abs(a - b) for a, b in zip(batched, single) if not (math.isnan(a) or math.isnan(b))] or [float("nan")]
    same = sum(
        (a[0] > a[1]) == (b[0] > b[1]) for a, b in zip(zip(batched[::2], batched[1::2]), zip(single[::2], single[1::2]))
    )
    print(
        f"overall scores, batched vs one at a time: mean |difference| {sum(gaps) / len(gaps):.3f}, "
        f"max {max(gaps):.3f}; the same answer of each pair scored higher in {same}/{pairs} pairs"
    )
    print(f"RATIO judge_batched_vs_one_at_a_time {speed['batched by length'] / speed['one at a time']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
