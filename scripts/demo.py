#!/usr/bin/env python
"""`make demo`: a real result in a few minutes on 2 CPU cores, from the library's own functions.

1. speak a question with the default text-to-speech voice (eSpeak NG);
2. ask the frozen LLM by voice through the speech connector
   (`speechnb.speech_prompt.distill_commands.default_checkpoint`: your last `make reproduce`, else the checkpoint
   shipped in checkpoints/bridge-default/), printing what Whisper heard, the audio-prompted answer and the answer to the
   typed question;
3. judge a spoken-style answer against a markdown-list answer with the same content with the listening judge (the
   pair of the README's "first 10 minutes");
4. draw one figure: the question's waveform with the words Whisper heard, and both judges' scores of the two answers.

Everything goes under data/runs/demo/ (ignored by git); the last lines say where, and how long each part took.

    python scripts/demo.py                                      # the default question
    python scripts/demo.py --question "How far away is the moon?" --voice en-gb
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the speechnb of this checkout

QUESTION = "What is the tallest mountain in the world?"
JUDGED = [  # the same content, once as a listener would want it and once as a markdown list read aloud
    dict(id="spoken", prompt=QUESTION, response="Mount Everest, at about 8,849 metres above sea level."),
    dict(
        id="list",
        prompt=QUESTION,
        response="Here is a list:\n\n1. **Mount Everest** (8,849 m)\n2. K2 (8,611 m)\n3. Kangchenjunga (8,586 m)",
    ),
]


def speak_question(question: str, voice: str, out: Path) -> dict:
    "Part 1: the question as 16 kHz speech, saved as a WAV."
    from speechnb.audio import SAMPLE_RATE, save_wav, speak

    samples = speak(question, voice)
    path = save_wav(out / "question.wav", samples)
    return dict(samples=samples, wav=path, seconds=len(samples) / SAMPLE_RATE)


def heard_words(encoder, samples) -> str:
    "What Whisper heard: the bridge's own hearing (cached, so the connector reuses it), or the cascade's ASR."
    if hasattr(encoder, "asr"):
        from speechnb.speech_prompt.bridge import cached_heard

        return " ".join(text.strip() for _, text in cached_heard([samples], encoder.asr)[0])
    from speechnb.whisper import transcribe_batch

    return transcribe_batch([samples])[0]


def ask_by_voice(question: str, samples, checkpoint: str | None, max_new_tokens: int, times: dict) -> dict:
    "Part 2: the frozen LLM's answer to the spoken question (through the connector) and to the typed one."
    from speechnb.speech_prompt.distill import load_checkpoint
    from speechnb.speech_prompt.distill_eval import ask
    from speechnb.speech_prompt.distill_commands import default_checkpoint

    start = time.perf_counter()
    folder = Path(checkpoint) if checkpoint else default_checkpoint()
    encoder, llm, tokenizer, _ = load_checkpoint(folder)
    times["ask: load LLM + connector"], start = time.perf_counter() - start, time.perf_counter()
    heard = heard_words(encoder, samples)  # loads Whisper base the first time
    audio_answer = ask(encoder, llm, tokenizer, samples, max_new_tokens=max_new_tokens)
    text_answer = ask(None, llm, tokenizer, None, question, max_new_tokens=max_new_tokens)
    times["ask: hear + two answers"] = time.perf_counter() - start
    return dict(
        checkpoint=str(folder), question=question, heard=heard, audio_answer=audio_answer, text_answer=text_answer
    )


def judge_two_answers(out: Path, times: dict) -> list[dict]:
    "Part 3: the listening judge (and the LLM judge alone, from the same pass) on the spoken and the listed answer."
    from speechnb.core import write_jsonl
    from speechnb.judge.judging import JudgeConfig, judge_rows, load_judge

    start, config = time.perf_counter(), JudgeConfig()
    judge = load_judge(config)
    times["judge: load"], start = time.perf_counter() - start, time.perf_counter()
    judged = judge_rows(JUDGED, config, judge, where="the demo's answers", progress=False)
    times["judge: reference + scores"] = time.perf_counter() - start
    write_jsonl(out / "judged.jsonl", judged)
    return judged


def draw(part1: dict, part2: dict, judged: list[dict], out: Path) -> Path:
    "Part 4: the waveform with the heard words, and both judges' overall scores of the two answers."
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from speechnb.audio import SAMPLE_RATE
    from speechnb.figures import add_caption

    fig, (wave, scores) = plt.subplots(1, 2, figsize=(11, 3.4), gridspec_kw=dict(width_ratios=[3, 2]))
    samples = part1["samples"]
    wave.plot(np.arange(len(samples)) / SAMPLE_RATE, samples, lw=0.4, color="#336699")
    wave.set(xlabel="seconds", ylabel="amplitude", title=f"Whisper heard: {part2['heard']!r}"[:90])
    labels, width = [j["id"] for j in judged], 0.38
    x = np.arange(len(judged))
    for offset, key, name in (
        (-width / 2, "overall", "listening judge"),
        (width / 2, "llm_overall", "LLM judge alone"),
    ):
        scores.bar(x + offset, [j["judge"][key] for j in judged], width, label=name)
    lowest = min(0.0, *(j["judge"]["overall"] for j in judged))
    scores.set(
        xticks=x, xticklabels=labels, ylim=(lowest, 5.8), ylabel="overall score", title="Same content, two forms"
    )
    scores.legend(fontsize=8, loc="upper center", ncol=2, frameon=False)
    caption = (
        "LLM judge: its expected 1-5 score, graded against its own reference answer. Listening judge: the same pass "
    )
    caption += "less measured penalties for what a listener pays (marks read aloud, speaking time, loops)."
    add_caption(fig, caption)
    fig.tight_layout()
    path = out / "demo.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def report(times: dict, part1: dict, part2: dict, judged: list[dict], figure: Path, out: Path) -> None:
    "What the demo found, where it went and how long each part took."
    print(f"\nquestion ({part1['seconds']:.1f} s of speech): {part1['wav']}")
    print(f"connector: {part2['checkpoint']}")
    print(f"Whisper heard:      {part2['heard']}")
    print(f"answer to the audio: {part2['audio_answer']}")
    print(f"answer to the text:  {part2['text_answer']}")
    for row in judged:
        j, name = row["judge"], row["id"]
        print(f"judged {name:>6}: listening {j['overall']:.2f}, LLM alone {j['llm_overall']:.2f}", end="")
        print(f" (marks read out or lost: {j.get('marks')})")
    print(f"judged answers: {out / 'judged.jsonl'}; answers: {out / 'answers.json'}; figure: {figure}")
    print("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()) + f"; total {sum(times.values()):.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n\n", 2)[2])
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--question", default=QUESTION, help="what to ask by voice (default: %(default)s)")
    parser.add_argument("--voice", default="en-us", help="engine:voice or an eSpeak NG voice (default: %(default)s)")
    parser.add_argument("--checkpoint", help="speech connector (default: your last run's, else the shipped one)")
    parser.add_argument("--max-new-tokens", type=int, default=48, help="answer length cap (default: %(default)s)")
    parser.add_argument("--out", default="data/runs/demo", help="output folder (default: %(default)s)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    for noisy in ("httpx", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from speechnb.core import SpeechnbError, atomic_write

    out, times = ROOT / args.out, {}  # relative to the repository (an absolute --out stays as given)
    out.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        part1 = speak_question(args.question, args.voice, out)
        times["speak"] = time.perf_counter() - start
        part2 = ask_by_voice(args.question, part1["samples"], args.checkpoint, args.max_new_tokens, times)
        judged = judge_two_answers(out, times)
        start = time.perf_counter()
        figure = draw(part1, part2, judged, out)
        times["figure"] = time.perf_counter() - start
    except SpeechnbError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 2
    with atomic_write(out / "answers.json") as handle:
        json.dump(
            dict(part2, wav=str(part1["wav"]), seconds={k: round(v, 1) for k, v in times.items()}), handle, indent=1
        )
    report(times, part1, part2, judged, figure, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
