"""Greedy generation with the embedded SmolLM2 on four engines, side by side on the same prompts in one run.

1. transformers fp32, one prompt at a time (speechnb.speechworthy.generation.LocalBackend)
2. transformers fp32, batched (left padding)
3. CTranslate2 float32, batched (speechnb.speechworthy.generation.CT2Backend)
4. CTranslate2 int8, batched

Same prompts (voice-suitable sample prompts under the `detailed` and `icl` strategies), greedy decoding, tokens/s
counted over the answer tokens up to end-of-turn. Greedy agreement: the share of answers identical, token for
token, to transformers fp32 one at a time (the reference).

    python benchmarks/bench_generate.py [--quick] [--batch-size 16] [--prompts 48] [--max-new-tokens 64]

`--quick` runs the same regime with a third of the work: the full run's prompts, batch size and answer length, but
only the middle batch (by prompt length) of each strategy's three, so the ratios read like the full run's.

Last line: `RATIO generate_ct2_vs_transformers_batched <value>`: tokens/s of the fastest CTranslate2 compute type
whose greedy agreement is >= 90% (else the float32 one) over transformers batched (goal >= 2 on 2 idle cores).
"""

import argparse
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from speechnb.core import content_hash, project_root, read_jsonl  # noqa: E402
from speechnb.speechworthy.generation import CT2Backend, LocalBackend  # noqa: E402
from speechnb.speechworthy.prompting import get_strategy  # noqa: E402

FALLBACK = [
    "Why is the sky blue?",
    "How do I boil an egg?",
    "What should I cook tonight?",
    "How far away is the moon?",
    "Who wrote Hamlet?",
    "Why do cats purr?",
    "How do bees make honey?",
    "What is a good name for a dog?",
]


def load_prompts(count: int) -> list[str]:
    sample = project_root() / "data" / "instructions_sample.jsonl"
    rows = [r for r in read_jsonl(sample) if r.get("voice_suitable") is True] if sample.is_file() else []
    texts = [r["instruction"] for r in sorted(rows, key=lambda r: content_hash(r["id"]))] or FALLBACK
    return (texts * (count // len(texts) + 1))[:count]


def middle_batch(texts: list[str], batch_size: int) -> list[str]:
    "The middle one of the batches a run makes of `texts` (longest first): one real batch of the full run."
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    middle = (len(order) - 1) // batch_size // 2
    return [texts[i] for i in order[middle * batch_size : (middle + 1) * batch_size]]


def run(backend, groups, max_new_tokens, batch_size):
    "Answers (in prompt order) and seconds per strategy, batched longest first, as a real run batches them."
    answers = []
    started = time.perf_counter()
    for texts in groups:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        done = [None] * len(texts)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            for i, answer in zip(chunk, backend.generate([texts[i] for i in chunk], max_new_tokens)):
                done[i] = answer
        answers += done
    return answers, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="only the middle batch of each strategy (same prompts, lengths, batch size)",
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--prompts", type=int, default=48, help="prompts per strategy (several batches each, as in a real run)"
    )
    parser.add_argument("--max-new-tokens", type=int, default=64)
    args = parser.parse_args()
    reference = LocalBackend(device="cpu")
    import torch

    questions = load_prompts(args.prompts)
    groups = [
        [reference.prepare(get_strategy(name), q, "", args.max_new_tokens)[0] for q in questions]
        for name in ("detailed", "icl")
    ]
    if args.quick:
        groups = [middle_batch(group, args.batch_size) for group in groups]
    texts = [t for group in groups for t in group]
    engines = {"ct2 float32": CT2Backend(reference.name, "float32"), "ct2 int8": CT2Backend(reference.name, "int8")}
    print(
        f"model {reference.name}, {len(texts)} prompts (detailed + icl"
        f"{f'; quick: the middle batch of {args.prompts} per strategy' if args.quick else ''}), "
        f"{args.max_new_tokens} new tokens max, "
        f"batch {args.batch_size}, greedy, torch threads {torch.get_num_threads()}, {os.cpu_count()} cores"
    )
    for backend in (reference, *engines.values()):
        backend.generate(texts[:2], max_new_tokens=4)  # warm-up: first-call allocations are not part of any side

    results = {
        "transformers one at a time": run(reference, groups, args.max_new_tokens, 1),
        "transformers batched": run(reference, groups, args.max_new_tokens, args.batch_size),
    }
    for name, backend in engines.items():
        results[name] = run(backend, groups, args.max_new_tokens, args.batch_size)
    truth = [a["raw"] for a in results["transformers one at a time"][0]]
    speed, agreement = {}, {}
    for name, (answers, seconds) in results.items():
        tokens = sum(a["new_tokens"] for a in answers)
        speed[name] = tokens / seconds
        agreement[name] = sum(a["raw"] == t for a, t in zip(answers, truth)) / len(truth)
        print(
            f"{name:28s} {tokens:6d} tokens in {seconds:7.1f} s = {speed[name]:7.1f} tokens/s, "
            f"greedy agreement with transformers fp32 {agreement[name]:.0%}"
        )
    print(
        "RATIO generate_batched_vs_sequential "
        f"{speed['transformers batched'] / speed['transformers one at a time']:.2f}"
    )
    for name in engines:
        print(
            f"RATIO generate_{name.replace(' ', '_')}_vs_transformers_batched "
            f"{speed[name] / speed['transformers batched']:.2f} "
            f"(agreement {agreement[name]:.0%})"
        )
    agreeing = [name for name in engines if agreement[name] >= 0.9]
    best = max(agreeing, key=speed.get) if agreeing else "ct2 float32"
    print(f"chosen: {best} (fastest CTranslate2 compute type with >= 90% greedy agreement, else float32)")
    print(f"RATIO generate_ct2_vs_transformers_batched {speed[best] / speed['transformers batched']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
