"""Distillation training throughput: samples/s at batch 8 vs batch 1, same data, same model, same loop.

Runs `speechnb.speech_prompt.distill.train_distill` (the real training loop: frozen SmolLM2-135M-Instruct, frozen
Whisper tiny.en with cached frames, trainable adapter + projection, CE + KD + feature losses) twice on the same spoken
transcripts: once with batch 1, once with batch 8, each for the same number of samples after a warm-up step.
Last line: `RATIO distill_batch8_vs_batch1 <value>` (goal >= 3 on 2 CPU cores).

`--quick` trains on 16 of the full run's 64 transcripts, the middle 16 by length, so that its two batches of 8 are as
narrow in length (as little padding) as the full run's length-grouped batches: the same regime, fewer steps. (The
first 16, as quick mode took before, make two batches spanning the whole length range: more padding at batch 8, a
likely reason why quick mode read 1.52 where the full run read 2.0.)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="the middle 16 of the samples by length (under 3 minutes on 2 cores)"
    )
    parser.add_argument("--samples", type=int, default=64, help="training samples per setting")
    parser.add_argument("--backbone", default="whisper-tiny.en")
    args = parser.parse_args()
    n = args.samples
    import torch
    from speechnb.speech_prompt.distill import train_distill
    from speechnb.speech_prompt.distill_data import composed_transcripts, spoken
    from speechnb.models import load_llm

    llm, tokenizer = load_llm(dtype="float32")
    questions = composed_transcripts(n + 8, seed=7)
    if args.quick:  # warm-up questions first, then the middle 16 of the n by length (the loop's sort key grows with it)
        middle = sorted(questions[8:], key=len)[(n - 16) // 2 : (n + 16) // 2]
        questions, n = questions[:8] + middle, len(middle)
    # Targets of a realistic length (~30 tokens); their content does not change the cost.
    rows = [
        dict(
            transcript=q,
            audio=str(spoken(q, "en-us", 160)),
            target=f"{q.rstrip('?.')} is a good question. "
            "Here is a short answer that a voice assistant could say aloud in a few seconds.",
        )
        for q in questions
    ]
    config = dict(
        llm="smollm2-135m-instruct",
        backbone=args.backbone,
        encoder=dict(method="pool", adapter_layers=1, output_rms=0.14),
        train=dict(lr=1e-3, eval_every=0, save_every=0, warmup_steps=0, schedule="constant"),
    )
    results = {}
    for batch in (1, 8):
        with tempfile.TemporaryDirectory() as tmp:
            warm = dict(config, train=dict(config["train"], batch_size=batch, max_steps=1))
            train_distill(
                warm, rows[:batch], [], tmp + "/warm", llm, tokenizer, progress=False
            )  # caches frames, warms up
            run = dict(config, train=dict(config["train"], batch_size=batch, max_steps=n // batch, epochs=1))
            started = time.perf_counter()
            summary = train_distill(run, rows[8 : 8 + n], [], tmp + "/run", llm, tokenizer, progress=False)
            elapsed = time.perf_counter() - started
            results[batch] = summary["samples_per_s"]
            print(
                f"batch {batch}: {summary['steps']} steps, {n} samples, loop {n / summary['samples_per_s']:.1f} s "
                f"(with setup {elapsed:.1f} s) -> {summary['samples_per_s']:.2f} samples/s "
                f"[{torch.get_num_threads()} threads, {'cuda' if torch.cuda.is_available() else 'cpu'}]",
                flush=True,
            )
    print(f"RATIO distill_batch8_vs_batch1 {results[8] / results[1]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
