#!/usr/bin/env python
"""Ship a finished bridge checkpoint in git: copy it into checkpoints/bridge-default/, check it loads, record its
sha256, its provenance and the figures measured on it, and write its model card (README.md) from them.

The figures come from the run that trained the checkpoint, never typed by hand: `reports/metrics.json` (its `distill`
section, which `reports/tables/distill_eval.md` shows) when SRC is the checkpoint the last reproduce run recorded, or
the row of `data/distill_connectors.csv` when SRC is `data/runs/connectors/<row>/final`. They are copied into the
shipped `meta.json` (`figures`), so the card keeps describing the shipped weights after `reports/` moves on.

Float16: unless `--float32`, the weights are also stored in float16 (`speechnb.speech_prompt.distill.export_checkpoint`)
and that copy is shipped only if, on the run's held-out test questions (SRC/../../data.jsonl, or `--rows`), the
audio-prompted perplexity moves by less than 0.001 and every greedy answer is unchanged; otherwise float32 is shipped.
The check's result is recorded in the meta and the card.
    python scripts/ship_checkpoint.py data/runs/default/distill/checkpoint/final   # ship (a few minutes on 2 cores)
    python scripts/ship_checkpoint.py --card                                       # re-render the card from its meta
    python scripts/ship_checkpoint.py --check                                      # exit 1 if the card is stale
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the speechnb of this checkout
SHIPPED = ROOT / "checkpoints" / "bridge-default"
PPL_TOLERANCE = 0.001  # float16 must not move the held-out audio perplexity at the third decimal
FIGURE_KEYS = {  # metrics.json `distill` key -> data/distill_connectors.csv column
    **{k: f"{k}_heldout" for k in ("ppl_text", "ppl_audio", "ppl_cascade", "ppl_none", "wer_cascade")},
    **{f"on_topic_{k}_heldout": f"on_topic_{k}_heldout" for k in ("text", "audio", "cascade", "none")},
    **{f"on_topic_{k}_real": f"on_topic_{k}_real" for k in ("text", "audio", "cascade", "none")},
    **{k: k for k in ("ppl_text_real", "ppl_audio_real", "ppl_cascade_real", "steps", "n_train")},
}


def repo_path(path: Path) -> str:
    "A path as the repository names it (from `data/` on), never a machine's absolute path."
    parts = path.resolve().parts
    return "/".join(parts[parts.index("data") :]) if "data" in parts else path.name


def _utc(text: str) -> datetime:
    stamp = datetime.fromisoformat(text)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def run_figures(source: Path) -> dict:
    "The figures measured on `source` and where they come from (the default run's reports, or a connectors row)."
    import pandas as pd

    reports = ROOT / "reports"
    metrics = json.loads((reports / "metrics.json").read_text(encoding="utf-8"))["distill"]
    recorded = metrics.get("checkpoint_dir", "")
    if recorded and repo_path(source).endswith(recorded):
        return dict(run_window(source, reports), figures={k: metrics[k] for k in FIGURE_KEYS}, figures_from="reports")
    parts = source.resolve().parts
    if len(parts) >= 3 and parts[-3] == "connectors":
        table = pd.read_csv(ROOT / "data" / "distill_connectors.csv").set_index("row")
        if parts[-2] in table.index:
            row = table.loc[parts[-2]]
            figures = {k: row[c].item() for k, c in FIGURE_KEYS.items()}
            return dict(figures=figures, figures_from=f"connectors:{parts[-2]}", profile="default")
    sys.exit(
        f"{source}: no figures measured on this checkpoint (not the one reports/metrics.json records, nor a row of "
        "data/distill_connectors.csv); run its evaluation first"
    )


def run_window(source: Path, reports: Path) -> dict:
    "Provenance of the reproduce run's distill step; refuses a checkpoint written outside that step (other figures)."
    step = json.loads((reports / "pipeline.json").read_text(encoding="utf-8"))["distill"]
    table = json.loads((reports / "manifest.json").read_text(encoding="utf-8"))["tables/distill_eval.md"]
    finished, written = (
        _utc(step["finished"]),
        datetime.fromtimestamp((source / "meta.json").stat().st_mtime, timezone.utc),
    )
    if not (finished.timestamp() - step["seconds"] <= written.timestamp() <= _utc(table["time"]).timestamp()):
        sys.exit(
            f"{source} was written at {written:%Y-%m-%d %H:%M} UTC, outside the distill step that wrote reports/ "
            f"(finished {finished:%Y-%m-%d %H:%M}): its figures would describe another run; finish that step first"
        )
    return dict(
        profile=step["profile"],
        step_finished=step["finished"],
        step_seconds=step["seconds"],
        git_commit=table["git_commit"],
        config_hash=table["config_hash"],
        notebook=table["notebook"],
    )


def training_settings(profile: str) -> dict:
    "What the card says about the data and training, from the profile's distill config."
    from speechnb.speech_prompt.distill_commands import load_config_file

    config = load_config_file(ROOT / "configs" / profile / "distill.yaml")
    data, train, ev = config["data"], config["train"], config["eval"]
    keep = (
        "n_train",
        "n_test",
        "voices",
        "eval_voices",
        "rates",
        "noise_fraction",
        "noise_snr_db",
        "heldout_topic_fraction",
    )
    judged = min(ev.get("judge_questions") or data["n_test"], data["n_test"])
    from speechnb.speech_prompt.distill_data import real_speech_rows

    return dict(
        data={k: data[k] for k in keep if k in data},
        batch_size=train["batch_size"],
        lr=train["lr"],
        judged_heldout=judged,
        judged_real=len(real_speech_rows()),
        config=f"configs/{profile}/distill.yaml",
    )


def float16_check(source: Path, rows_file: Path, llm, tokenizer) -> dict:
    "Held-out audio perplexity and greedy answers with the float32 weights and with their float16 copy."
    from speechnb.core import read_jsonl
    from speechnb.speech_prompt.distill import export_checkpoint, load_checkpoint
    from speechnb.speech_prompt.distill_eval import evaluate_distill

    rows = [r for r in read_jsonl(rows_file) if r.get("split") == "test"]
    if not rows:
        sys.exit(f"{rows_file}: no test rows to check float16 against (pass --rows, or --float32)")
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        export_checkpoint(source, Path(tmp) / "half", half=True)
        for dtype, folder in (("float32", source), ("float16", Path(tmp) / "half")):
            encoder, *_, meta = load_checkpoint(folder, llm, tokenizer)
            metrics, table = evaluate_distill(encoder, llm, tokenizer, rows, meta["backbone"], 20, cascade=False)
            result[dtype] = (metrics["ppl_audio"], [t["audio_answer"] for t in table])
    (ppl32, answers32), (ppl16, answers16) = result["float32"], result["float16"]
    same = sum(a == b for a, b in zip(answers32, answers16))
    passed = abs(ppl32 - ppl16) < PPL_TOLERANCE and same == len(rows)
    return dict(rows=len(rows), ppl_audio_float32=ppl32, ppl_audio_float16=ppl16, answers_identical=same, passed=passed)


def ship(source: Path, rows_file: Path | None, float32: bool) -> dict:
    "Copy, check and describe the checkpoint; returns the shipped meta."
    from speechnb.speech_prompt.distill import export_checkpoint, load_checkpoint, read_meta
    from speechnb.models import load_llm

    meta = read_meta(source)
    if meta["encoder"].get("connector") != "bridge":
        sys.exit(f"{source}: a {meta['encoder'].get('connector', 'pool')!r} connector, not the bridge (the default)")
    provenance = run_figures(source)
    provenance.update(training=training_settings(provenance["profile"]), source=repo_path(source))
    llm, tokenizer = load_llm(meta["llm"])
    check = None
    if not float32:
        check = float16_check(source, rows_file or source.parent.parent / "data.jsonl", llm, tokenizer)
        print(f"float16 check: {json.dumps(check)}")
        if abs(check["ppl_audio_float32"] - provenance["figures"]["ppl_audio"]) >= PPL_TOLERANCE:
            sys.exit(
                f"{source}: held-out audio perplexity {check['ppl_audio_float32']} here, "
                f"{provenance['figures']['ppl_audio']} in the figures: they were measured on another checkpoint"
            )
    half = bool(check and check["passed"])
    export_checkpoint(source, SHIPPED, half=half, extra=dict(shipped=provenance, float16_check=check))
    encoder, *_, shipped = load_checkpoint(SHIPPED, llm, tokenizer)  # loads, and its sha256 matches
    count = sum(p.numel() for n, p in encoder.named_parameters() if p.requires_grad)
    shipped["shipped"].update(parameters=count, size_bytes=(SHIPPED / "encoder.pt").stat().st_size)
    (SHIPPED / "meta.json").write_text(json.dumps(shipped, indent=2) + "\n", encoding="utf-8")
    return shipped


def _count(share: float, n: int) -> str:
    return f"{round(share * n)} of {n}"


def _dtype_note(meta: dict) -> str:
    check = meta.get("float16_check")
    if not check:
        return f"{meta['weights_dtype']} (the float16 check was not run)"
    verdict = "shipped in float16" if check["passed"] else "not close enough: shipped in float32"
    return (
        f"{meta['weights_dtype']}: on the {check['rows']} held-out questions float16 gave audio perplexity "
        f"{check['ppl_audio_float16']:.4f} against float32's {check['ppl_audio_float32']:.4f} and "
        f"{check['answers_identical']} of {check['rows']} identical greedy answers ({verdict})"
    )


def card_values(meta: dict) -> dict:
    "The card template's fields, every number read from the shipped meta.json."
    s, f, t = meta["shipped"], meta["shipped"]["figures"], meta["shipped"]["training"]
    d, n, real = t["data"], t["judged_heldout"], t["judged_real"]
    if s["figures_from"] == "reports":
        run = f"`make reproduce` (profile `{s['profile']}`), distill step finished {s['step_finished']} UTC, commit "
        run += f"`{s['git_commit']}`, config hash `{s['config_hash']}`"
        figures_source = "`reports/metrics.json` (`distill`; the table `reports/tables/distill_eval.md`)"
    else:
        run = f"`scripts/compare_connectors.py`, row `{s['figures_from'].split(':', 1)[1]}` (default profile data)"
        figures_source = "`data/distill_connectors.csv`"
    values = dict(meta, **s, **t, **f, run=run, figures_source=figures_source, real=real, n_test=d["n_test"])
    values.update(voices=", ".join(d["voices"]), rates=", ".join(map(str, d["rates"])), sha256=meta["encoder_sha256"])
    values.update(noise_pct=f"{100 * d['noise_fraction']:.0f}%", noise_snr_db=f"{d['noise_snr_db']:g}")
    values.update(heldout_pct=f"{100 * d['heldout_topic_fraction']:.0f}%", eval_voices=", ".join(d["eval_voices"]))
    values.update(
        parameters=f"{s['parameters']:,}", size_mb=f"{s['size_bytes'] / 1e6:.1f}", dtype_note=_dtype_note(meta)
    )
    values.update({k: f"{f[k]:.3f}" for k in f if k.startswith("ppl_")}, wer_cascade=f"{100 * f['wer_cascade']:.1f}%")
    values.update({k: _count(f[k], n if k.endswith("heldout") else real) for k in f if k.startswith("on_topic_")})
    return values


def render_card(meta: dict) -> str:
    "checkpoints/bridge-default/README.md from the shipped meta.json and docs/checkpoint_card.template.md."
    return (ROOT / "docs" / "checkpoint_card.template.md").read_text(encoding="utf-8").format(**card_values(meta))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", help="a finished bridge checkpoint folder (encoder.pt + meta.json)")
    parser.add_argument(
        "--rows", help="the run's rows (data.jsonl) for the float16 check (default: SRC/../../data.jsonl)"
    )
    parser.add_argument("--float32", action="store_true", help="ship float32 weights, skip the float16 check")
    parser.add_argument("--card", action="store_true", help="only re-render the card from the shipped meta.json")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the card is not what the shipped meta.json gives"
    )
    args = parser.parse_args()
    if args.source:
        ship(Path(args.source), Path(args.rows) if args.rows else None, args.float32)
        print("the README quotes the shipped figures: run scripts/render_readme.py (make readme) and commit both")
    elif not (args.card or args.check):
        parser.error("give a checkpoint folder to ship, or --card / --check")
    card = render_card(json.loads((SHIPPED / "meta.json").read_text(encoding="utf-8")))
    target = SHIPPED / "README.md"
    if args.check:
        stale = not target.is_file() or target.read_text(encoding="utf-8") != card
        print(
            f"{target.relative_to(ROOT)} is out of date: run {Path(__file__).name} --card" if stale else "card current"
        )
        return int(stale)
    target.write_text(card, encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)} and {SHIPPED.relative_to(ROOT)}/meta.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
