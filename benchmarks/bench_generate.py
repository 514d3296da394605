"""Batched vs one-at-a-time greedy generation with the embedded SmolLM2 (speechnb.generation.LocalBackend).

Same prompts (voice-suitable sample prompts under the `detailed` strategy), same model, greedy decoding,
measured side by side in one run. The outputs must be identical (left padding + attention mask must not
change a greedy answer); tokens/s counts the answer tokens up to end-of-turn.

    python benchmarks/bench_generate.py [--quick] [--batch-size 16] [--prompts 32] [--max-new-tokens 64]

Last line: `RATIO generate_batched_vs_sequential <batched tokens/s / sequential tokens/s>` (goal >= 3 on 2 CPU cores).
"""
import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from speechnb.core import content_hash, project_root, read_jsonl  # noqa: E402
from speechnb.generation import LocalBackend  # noqa: E402
from speechnb.prompting import get_strategy  # noqa: E402

FALLBACK = ["Why is the sky blue?", "How do I boil an egg?", "What should I cook tonight?", "How far away is the moon?",
            "Who wrote Hamlet?", "Why do cats purr?", "How do bees make honey?", "What is a good name for a dog?",
            "How can I sleep better?", "Why do leaves change colour in autumn?", "What causes thunder?",
            "How do airplanes stay in the air?", "What is the best way to learn a language?", "Why do we dream?",
            "How does a rainbow form?", "What is inflation?"]


def load_prompts(count: int) -> list[str]:
    sample = project_root() / "data" / "instructions_sample.jsonl"
    rows = [r for r in read_jsonl(sample) if r.get("voice_suitable") is True] if sample.is_file() else []
    texts = [r["instruction"] for r in sorted(rows, key=lambda r: content_hash(r["id"]))] or FALLBACK
    return (texts * (count // len(texts) + 1))[:count]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="16 prompts x 24 new tokens (under 3 minutes)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's). On an oversubscribed machine 1 thread is far faster than 2")
    args = parser.parse_args()
    if args.quick:
        args.prompts, args.max_new_tokens = 16, 24
    backend = LocalBackend(device="cpu")
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    strategy = get_strategy("detailed")
    texts = [backend.prepare(strategy, q, "", args.max_new_tokens)[0] for q in load_prompts(args.prompts)]
    print(f"model {backend.name}, {len(texts)} prompts, {args.max_new_tokens} new tokens max, batch {args.batch_size}, "
          f"greedy, torch threads {torch.get_num_threads()}")
    backend.generate(texts[:2], max_new_tokens=4)  # warm-up: first-call allocations are not part of either side

    started = time.perf_counter()
    sequential = [backend.generate([t], args.max_new_tokens)[0] for t in texts]
    sequential_s = time.perf_counter() - started

    started = time.perf_counter()
    batched = []
    for start in range(0, len(texts), args.batch_size):
        batched += backend.generate(texts[start:start + args.batch_size], args.max_new_tokens)
    batched_s = time.perf_counter() - started

    tokens = sum(a["new_tokens"] for a in sequential)
    mismatches = [i for i, (a, b) in enumerate(zip(sequential, batched)) if a["raw"] != b["raw"]]
    for i in mismatches[:3]:
        a, b = sequential[i]["raw"], batched[i]["raw"]
        where = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        print(f"  differs at char {where}: sequential {a[max(0, where - 20):where + 30]!r} | batched {b[max(0, where - 20):where + 30]!r}")
    print(f"identical outputs: {len(texts) - len(mismatches)}/{len(texts)}")
    print(f"sequential: {tokens} tokens in {sequential_s:.1f} s = {tokens / sequential_s:.1f} tokens/s")
    batched_tokens = sum(a["new_tokens"] for a in batched)
    print(f"batched:    {batched_tokens} tokens in {batched_s:.1f} s = {batched_tokens / batched_s:.1f} tokens/s")
    ratio = (batched_tokens / batched_s) / (tokens / sequential_s)
    print(f"RATIO generate_batched_vs_sequential {ratio:.2f}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
