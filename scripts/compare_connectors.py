"""Compare speech connectors on the default profile's data: one row per connector into data/distill_connectors.csv.

Each connector is trained by `speechnb.speech_prompt.distill.train_distill` on the same training rows (the default
profile's `distill.yaml`, whose held-out topics never occur in training) and evaluated the same way: perplexity of the
LLM's own text-prompted answer given the text, the audio, the ASR transcript and nothing; the LLM judge's on-topic rate
for each answer, on held-out questions spoken by a voice training never heard and on the ten real recordings; speech
summarization ROUGE-L against the text summary. `nbs/speech_prompt/62_distill.ipynb` shows the table.
Rows: `pool` is the paper's connector (Whisper tiny.en frames pooled and projected, with the auxiliary CTC loss, the
best pool setting measured on this profile); `bridge` is the default (`nbs/speech_prompt/60a_bridge.ipynb`).
`--checkpoint bridge=DIR --train-seconds bridge=S` evaluates an already trained checkpoint (e.g. the one the
default reproduce run wrote) instead of training it again.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# what each row changes in the default profile's distill config (a row is a connector and its training settings)
CONNECTOR_SETTINGS = {
    "pool": dict(
        backbone="whisper-tiny.en",
        encoder=dict(connector="pool", token_ctc=True),
        train=dict(lr=0.002, weights=dict(ce=0.5, kd=0.5, feat=1.0, ctc=0.2)),
    ),
    "bridge": dict(backbone="whisper-base", encoder=dict(connector="bridge")),
    # the bridge with a third of the learning rate: does staying nearer the cascade keep the answers nearer the text's?
    "bridge-lr3e-4": dict(backbone="whisper-base", encoder=dict(connector="bridge"), train=dict(lr=0.0003)),
}


def connector_config(config: dict, name: str) -> dict:
    "The default config with one connector's settings laid over it (nested sections merged)."
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in config.items()}
    for key, value in CONNECTOR_SETTINGS[name].items():
        merged[key] = dict(merged.get(key, {}), **value) if isinstance(value, dict) else value
    return merged


def pairs(items: list[str], kind) -> dict:
    "NAME=VALUE command-line items as a dict."
    return {k: kind(v) for k, v in (item.split("=", 1) for item in items)}


def evaluate(encoder, llm, tokenizer, rows: dict, meta: dict, ev: dict, judge_questions: int) -> dict:
    "Perplexities, judged on-topic rates (held-out and real) and summarization ROUGE-L of one trained connector."
    from speechnb.speech_prompt.distill_eval import (
        evaluate_distill,
        evaluate_summarization,
        judge_answers,
        no_prompt_answer,
    )
    from speechnb.speech_prompt.distill_eval import on_topic_rates
    from speechnb.speech_prompt.distill_data import sample_passages

    result, none_answer = {}, no_prompt_answer(llm, tokenizer, ev.get("max_new_tokens", 48))
    for name, part in (("heldout", rows["test"]), ("real", rows["real"])):
        metrics, table = evaluate_distill(
            encoder, llm, tokenizer, part, meta["backbone"], ev.get("max_new_tokens", 48), ev.get("batch_size", 8)
        )
        judged = judge_answers(table[:judge_questions] if name == "heldout" else table, none_answer=none_answer)
        result.update({f"{k}_{name}": v for k, v in metrics.items()})
        result.update({f"{k}_{name}": v for k, v in on_topic_rates(judged).items() if not k.endswith("_ci")})
    passages = sample_passages(n=ev.get("summarization", 2))
    summary, _ = evaluate_summarization(encoder, llm, tokenizer, passages, rows["voice"], ev.get("summary_tokens", 48))
    return dict(result, **summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connectors", nargs="+", default=list(CONNECTOR_SETTINGS), choices=list(CONNECTOR_SETTINGS))
    out_help = "the table (CSV; a row measured again replaces its old one)"
    parser.add_argument("--out", default="data/distill_connectors.csv", help=out_help)
    parser.add_argument("--work", default="data/runs/connectors", help="checkpoints of the trained connectors")
    parser.add_argument("--checkpoint", nargs="*", default=[], help="NAME=DIR: evaluate this checkpoint, do not train")
    parser.add_argument("--train-seconds", nargs="*", default=[], help="NAME=S: a given checkpoint's training time")
    parser.add_argument("--judge-questions", type=int, default=None, help="held-out questions judged (default: config)")
    args = parser.parse_args()
    import pandas as pd
    from speechnb.core import project_root
    from speechnb.speech_prompt.distill import load_checkpoint
    from speechnb.speech_prompt.distill_eval import ABOUT_PROMPT, answered_rows
    from speechnb.speech_prompt.distill_commands import load_config_file, prepare_rows
    from speechnb.speech_prompt.distill import train_distill
    from speechnb.speech_prompt.distill_data import distill_voices, real_speech_rows
    from speechnb.models import load_llm

    given, seconds = pairs(args.checkpoint, str), pairs(args.train_seconds, float)
    config = load_config_file(project_root() / "configs" / "default" / "distill.yaml")
    ev = config.get("eval", {})
    llm, tokenizer = load_llm(config["llm"], dtype="float32")
    rows = prepare_rows(config, llm, tokenizer, "data/runs/default")
    real = real_speech_rows()  # not questions: asked "What is this about?", as in the distill experiment
    rows["real"] = answered_rows(real, llm, tokenizer, config["data"].get("max_new_tokens", 48), ABOUT_PROMPT)
    rows["voice"] = distill_voices(config["data"])[1][0]
    table = pd.read_csv(args.out).to_dict("records") if Path(args.out).is_file() else []
    table = [r for r in table if r.get("row", r.get("connector")) not in args.connectors]
    for name in args.connectors:
        settings = connector_config(config, name)
        started = time.time()
        if name in given:
            checkpoint = given[name]
        else:
            summary = train_distill(settings, rows["train"], rows["validation"], Path(args.work) / name, llm, tokenizer)
            checkpoint = summary["checkpoint"]
        train_s = seconds.get(name, time.time() - started)
        encoder, _, _, meta = load_checkpoint(checkpoint, llm, tokenizer)
        params = sum(p.numel() for p in encoder.parameters() if p.requires_grad)
        judged = args.judge_questions or ev.get("judge_questions", 12)
        metrics = evaluate(encoder, llm, tokenizer, rows, meta, ev, judged)
        table.append(
            dict(row=name, connector=meta["encoder"].get("connector", "pool"), backbone=meta["backbone"],
                 trainable_params_m=round(params / 1e6, 2), steps=meta.get("step"), train_min=round(train_s / 60, 1),
                 n_train=len(rows["train"]), **metrics)
        )  # fmt: skip
        print(table[-1], flush=True)
        pd.DataFrame(table).to_csv(args.out, index=False)  # after each row: a stopped run keeps its rows


if __name__ == "__main__":
    main()
