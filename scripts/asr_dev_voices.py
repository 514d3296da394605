"""Choose the held-out voice's speaking rate on a dev set: the cascade's ASR word error rate per voice and rate.

The dev set is the first `--questions` composed questions about *training* topics (never a held-out-topic question, so
never a test question), spoken by each candidate voice at each rate; Whisper (the cascade's ASR, `eval.asr`) hears them
through the bridge's cache (`speechnb.speech_prompt.bridge.cached_heard`), so a second run costs seconds. WER is
`speechnb.whisper.wer_interval`: Whisper's English normalizer on both sides, 95% bootstrap intervals over sentences and
over topics, and the paired difference from the held-out voice at the test rate, 160 wpm (the same sentences resampled
for both). The candidates are the config's `data.eval_voices` (voices of an engine training never hears) at each of
`data.rates`, plus any `--voice` (e.g. `flite:kal16`, an unheard voice of a heard engine, for reference). Writes
reports/tables/distill_asr_dev.{csv,md,tex}.

    python scripts/asr_dev_voices.py [--profile default] [--questions 120] [--voice flite:kal16]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def paired_difference(counts, reference, n_boot: int = 4000, seed: int = 0) -> dict:
    "WER minus the reference's on the same sentences ((edits, words) rows), with a paired 95% bootstrap interval."
    if reference is None:
        return dict(minus_160=None, minus_160_low=None, minus_160_high=None)
    picks = np.random.default_rng(seed).integers(0, len(counts), (n_boot, len(counts)))
    diffs = (counts[picks, 0].sum(1) - reference[picks, 0].sum(1)) / counts[picks, 1].sum(1)
    low, high = np.quantile(diffs, [0.025, 0.975])
    edits = counts[:, 0].sum() - reference[:, 0].sum()
    return dict(minus_160=float(edits / counts[:, 1].sum()), minus_160_low=float(low), minus_160_high=float(high))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--questions", type=int, default=120, help="dev questions (training topics), in composed order")
    parser.add_argument("--voice", action="append", default=[], help="another candidate voice, at 160 wpm")
    parser.add_argument("--reports", default="reports")
    args = parser.parse_args(argv)

    import pandas as pd

    from speechnb.audio import check_voice, load_audio
    from speechnb.speech_prompt.bridge import cached_heard
    from speechnb.core import project_root
    from speechnb.speech_prompt.distill_commands import load_config_file
    from speechnb.speech_prompt.distill_data import (
        composed_questions,
        distill_voices,
        heldout_topics,
        heldout_words,
        mentions,
        spoken,
    )
    from speechnb.reporting import save_table
    from speechnb.whisper import DEFAULT_ASR, sentence_word_errors, wer_interval

    config = load_config_file(project_root() / "configs" / args.profile / "distill.yaml")
    data, asr = config["data"], config.get("eval", {}).get("asr") or DEFAULT_ASR
    _, eval_voices = distill_voices(data)
    held = heldout_topics(data.get("heldout_topic_fraction") or 0.0, data.get("heldout_topic_seed", 0))
    words = heldout_words(held)
    dev = [q for q in composed_questions(None, data.get("seed", 0)) if q["topic"] not in held][: args.questions]
    assert not any(mentions(q["transcript"], words) for q in dev), "a dev question mentions a held-out topic"
    rates = sorted(data.get("rates", [140, 160, 180]), key=lambda r: r != 160)  # the test rate first
    candidates = [(v, r) for v in eval_voices for r in rates]
    candidates += [(check_voice(v), 160) for v in args.voice]
    rows, counts = [], {}
    for voice, rate in candidates:
        started = time.time()
        clips = [load_audio(spoken(q["transcript"], voice, rate)) for q in dev]
        heard = [" ".join(t for _, t in windows).strip() for windows in cached_heard(clips, asr)]
        said, topics = [q["transcript"] for q in dev], [q["topic"] for q in dev]
        by_sentence, by_topic = wer_interval(said, heard), wer_interval(said, heard, groups=topics)
        counts[voice, rate] = np.array(sentence_word_errors(said, heard), dtype=float)
        baseline = (voice if voice in eval_voices else eval_voices[0], 160)  # the test split's voice and rate
        diff = paired_difference(counts[voice, rate], None if baseline == (voice, rate) else counts.get(baseline))
        rows.append(
            dict(
                voice=voice,
                rate=rate,
                held_out_engine=voice in eval_voices,
                sentences=len(dev),
                words=by_sentence["words"],
                topics=by_topic["units"],
                wer=by_sentence["wer"],
                low=by_sentence["low"],
                high=by_sentence["high"],
                topic_low=by_topic["low"],
                topic_high=by_topic["high"],
                **diff,
                seconds=round(time.time() - started, 1),
            )
        )
        print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in rows[-1].items()}, flush=True)
    table = pd.DataFrame(rows)
    save_table(
        table,
        args.reports,
        "distill_asr_dev",
        float_format="{:.4f}",
        notebook="scripts/asr_dev_voices.py",
        profile=args.profile,
        config=config,
    )
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
