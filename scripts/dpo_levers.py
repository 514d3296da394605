"""Compare DPO levers on the default run's pairs: one row per lever into data/dpo_levers.csv.

Every lever trains the same policy (`dpo.yaml`'s `train` section, SmolLM2-135M-Instruct with LoRA) on the same
training pairs, in the same order, for the same number of steps; only the lever's own settings differ. Each trained
policy answers the 43 held-out prompts under the `base` and the `icl` system prompts (greedy, the generation step's
cap): `LEVER-base` and `LEVER-icl`, as the grid's dpo-base and dpo-icl. The listening judge compares every answer with
the starting policy's `base` answer to the same prompt (the generation step's), in both orders, a tie of the orders
settled by the two answers' pointwise ratings (`speechnb.speechworthy.judge_grid.judge_grid`, one judging
pass for all levers, so a shared base answer is rated once). The collapse checks
(`speechnb.speechworthy.dpo.collapse_report`) and the answers' length come from the same answers.
`nbs/speechworthy/50_dpo.ipynb` shows the table. Rows:

- `plain`: the DPO loss alone (`sft_weight: 0`).
- `ld`: LD-DPO (`ld_alpha: 0.5`): the tokens beyond the shorter answer count half, which weakens the length signal.
- `ipo`: IPO (`loss_type: ipo`), a squared loss that does not push the margin without bound.
- `beta0.3`: the NLL setting with a stronger pull towards the starting policy (`beta: 0.3`).
- `nll`: DPO plus the NLL term on the chosen answer (RPO's anchor, `sft_weight: 1`): the default profile's setting.

A lever's trained policy is cached by its settings and pairs (`train_dpo`'s run key), so a rerun only judges again, and
the judge's cache makes that free. The `nll` row reuses the default run's policy when its settings are the same.

    python scripts/dpo_levers.py [--levers plain ld ipo beta0.3 nll] [--run-dir data/runs/default]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

STRATEGIES = ("base", "icl")  # system prompts each lever's policy answers under (the grid's dpo-base and dpo-icl)

# what each lever changes in the default profile's `train` section of dpo.yaml
LEVERS = {
    "plain": dict(sft_weight=0.0),
    "ld": dict(sft_weight=0.0, ld_alpha=0.5),
    "ipo": dict(sft_weight=0.0, loss_type="ipo"),
    "beta0.3": dict(sft_weight=1.0, beta=0.3),
    "nll": dict(sft_weight=1.0),  # last: by then the default run's policy (the same settings) is there to reuse
}


def lever_answers(name: str, train_cfg, train_pairs: list[dict], test_prompts: list[dict], grid_cfg, run: Path, reuse):
    "Train one lever's policy (cached by its run key) and its greedy answers to the held-out prompts (`STRATEGIES`)."
    from speechnb.core import read_jsonl
    from speechnb.speechworthy.dpo import METADATA_FILE, train_dpo
    from speechnb.speechworthy.generation import GenerateConfig, generate_responses

    settings = dataclasses.replace(train_cfg, **LEVERS[name])
    folder = run / "dpo_levers" / name
    if reuse and settings == train_cfg and (reuse / METADATA_FILE).is_file():
        folder = reuse  # the default run's policy, trained with these settings on these pairs: train_dpo finds it done
    started = time.time()
    summary = train_dpo(train_pairs, folder, settings, progress=False)
    trained = time.time() - started
    answers_file = run / "dpo_levers" / f"{name}-{summary['key']}.jsonl"
    generation = GenerateConfig(
        model=summary["model_dir"],
        strategies=list(STRATEGIES),
        max_new_tokens=grid_cfg.max_new_tokens,
        batch_size=grid_cfg.batch_size,
        backend=grid_cfg.backend,
    )
    generate_responses(test_prompts, answers_file, generation, progress=False)
    test_ids = {p["id"] for p in test_prompts}
    rows = {
        (r["prompt_id"], r["strategy"]): dict(r, config=f"{name}-{r['strategy']}") for r in read_jsonl(answers_file)
    }
    return [r for (prompt_id, _), r in rows.items() if prompt_id in test_ids], dict(
        steps=summary.get("steps"),
        train_minutes=round((summary.get("train_seconds") or trained) / 60, 2),
        cached=bool(summary.get("cached")),
        **LEVERS[name],
    )


def lever_table(rows: list[dict], verdicts, levers: list[str], trained: dict):
    "One row per lever: judged rates against base (listening judge and the LLM alone), collapse checks, length."
    import pandas as pd

    from speechnb.speechworthy.dpo import collapse_report

    collapse = collapse_report(rows).set_index("config")
    words = (
        pd.DataFrame(rows).assign(words=lambda t: t["response"].str.split().str.len()).groupby("config")["words"].mean()
    )
    table = []
    for name in levers:
        for strategy in STRATEGIES:
            config = f"{name}-{strategy}"
            judged = {r["judge"]: r for r in verdicts[verdicts.a == config].to_dict("records")}
            listening, alone = judged.get("listening", {}), judged.get("LLM alone", {})
            table.append(
                dict(
                    lever=name,
                    strategy=strategy,
                    **trained[name],
                    preferred_or_tied=listening.get("preferred_or_tied"),
                    low=listening.get("preferred_or_tied_low"),
                    high=listening.get("preferred_or_tied_high"),
                    win=listening.get("win"),
                    tie=listening.get("tie"),
                    loss=listening.get("loss"),
                    llm_alone_preferred_or_tied=alone.get("preferred_or_tied"),
                    off_topic=collapse.loc[config, "off_topic"],
                    repetitive=collapse.loc[config, "repetitive"],
                    evasive=collapse.loc[config, "evasive"],
                    words=words[config],
                    base_repetitive=collapse.loc["base", "repetitive"],
                    base_words=words["base"],
                )
            )
    return pd.DataFrame(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levers", nargs="+", default=list(LEVERS), choices=list(LEVERS))
    parser.add_argument(
        "--run-dir", default="data/runs/default", help="the default run's folder (pairs, prompts, answers)"
    )
    parser.add_argument("--profile", default="default")
    parser.add_argument("--max-steps", type=int, default=None, help="fewer steps (a quick check of the script)")
    parser.add_argument("--prompts", type=int, default=None, help="fewer held-out prompts (a quick check)")
    parser.add_argument("--output", default="data/dpo_levers.csv")
    args = parser.parse_args(argv)

    from speechnb.core import project_root, read_jsonl
    from speechnb.judge.judging import load_judge
    from speechnb.reporting import load_config
    from speechnb.speechworthy.dpo import dpo_pairs
    from speechnb.speechworthy.dpo_config import DPOStepConfig
    from speechnb.speechworthy.judge_grid import judge_grid

    cfg = load_config(args.profile, "dpo", config=DPOStepConfig)
    train_cfg = cfg.train if args.max_steps is None else dataclasses.replace(cfg.train, max_steps=args.max_steps)
    run = Path(args.run_dir)
    train_pairs, _ = dpo_pairs(
        run / cfg.pairs_file,
        max_pairs=train_cfg.max_pairs,
        drop_repetitive_chosen=train_cfg.drop_repetitive_chosen,
        sources_first=train_cfg.sources_first,
        seed=train_cfg.seed,
    )
    trained_ids = {str(p.get("prompt_id")) for p in train_pairs if p.get("prompt_id")}
    trained_texts = {p["prompt"].strip() for p in train_pairs}
    test_prompts = [  # the DPO grid's held-out prompts: the test split, less any prompt a training pair holds
        p
        for p in read_jsonl(run / "prompts.jsonl")
        if p.get("split") == cfg.grid.split
        and str(p["id"]) not in trained_ids
        and p["instruction"].strip() not in trained_texts
    ][: args.prompts]
    test_ids = {p["id"] for p in test_prompts}
    # the starting policy's base answers: the generation step's (the DPO grid reuses the same rows)
    base = {
        r["prompt_id"]: r
        for r in read_jsonl(run / "responses.jsonl")
        if r["config"] == "base" and r["prompt_id"] in test_ids
    }
    missing = sorted(test_ids - set(base))
    assert not missing, (
        f"the generation step did not answer {len(missing)} held-out prompt(s) under base: {missing[:3]}"
    )
    rows = [dict(base[i], config="base") for i in sorted(test_ids)]
    trained = {}
    for name in args.levers:
        reuse = (
            run / cfg.policy_dir if args.max_steps is None else None
        )  # a shortened run must not touch the default policy
        answers, trained[name] = lever_answers(name, train_cfg, train_pairs, test_prompts, cfg.grid, run, reuse)
        rows += answers
        print(name, trained[name], flush=True)
    started = time.time()
    pairs = [f"{name}-{strategy}:base" for name in args.levers for strategy in STRATEGIES]
    settings = dataclasses.replace(cfg.judge, pairs=pairs, aspect_prompts=1)
    _, verdicts = judge_grid(rows, settings, load_judge(settings.judge), progress=False)
    print(f"judged in {time.time() - started:.0f} s", flush=True)
    table = lever_table(rows, verdicts, args.levers, trained)
    output = project_root() / args.output
    table.to_csv(output, index=False, float_format="%.4f")
    print(table.to_string(index=False))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
