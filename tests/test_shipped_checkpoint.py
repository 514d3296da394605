"""The speech connector shipped in checkpoints/bridge-default/: its weights are the ones its meta records, it loads,
`speechnb ask` falls back to it on a fresh clone, and its model card is what its meta gives."""

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from speechnb.core import SpeechnbError
from speechnb.speech_prompt.distill import read_meta, weights_sha256
from speechnb.speech_prompt.distill_commands import SHIPPED_CHECKPOINT, default_checkpoint

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / SHIPPED_CHECKPOINT


def test_shipped_weights_are_the_ones_their_meta_records():
    meta = read_meta(SHIPPED)
    assert meta["encoder"]["connector"] == "bridge" and meta["weights_dtype"] in ("float16", "float32")
    assert weights_sha256(SHIPPED) == meta["encoder_sha256"]
    assert (SHIPPED / "encoder.pt").stat().st_size == meta["shipped"]["size_bytes"] < 12_000_000


def test_the_shipped_checkpoint_loads():
    from speechnb.speech_prompt.bridge import BridgeConnector
    from speechnb.speech_prompt.distill import load_checkpoint

    encoder, llm, _, meta = load_checkpoint(SHIPPED)
    assert isinstance(encoder, BridgeConnector) and meta["llm"] == "smollm2-135m-instruct"
    assert all(p.dtype == llm.dtype for p in encoder.parameters())  # float16 weights come back as the LLM's float32


def test_default_checkpoint_falls_back_to_the_shipped_one(tmp_path, caplog):
    (tmp_path / "none.json").write_text(json.dumps({"distill": {"ppl_text": 2.0}}))
    (tmp_path / "gone.json").write_text(json.dumps({"distill": {"checkpoint_dir": str(tmp_path / "nowhere")}}))
    with caplog.at_level(logging.INFO, logger="speechnb.speech_prompt.distill_commands"):
        assert default_checkpoint(tmp_path / "none.json") == SHIPPED
        assert default_checkpoint(tmp_path / "gone.json") == SHIPPED
        assert default_checkpoint(tmp_path / "absent.json") == SHIPPED  # no metrics file at all: a fresh clone
    said = [r.getMessage() for r in caplog.records if "shipped checkpoint" in r.getMessage()]
    assert len(said) == 3 and "names none" in said[0] and "does not exist" in said[1], said


def test_shipped_weights_that_disagree_with_their_sha256_are_refused(tmp_path):
    (tmp_path / "none.json").write_text("{}")
    shutil.copytree(SHIPPED, tmp_path / "copy")
    with open(tmp_path / "copy" / "encoder.pt", "r+b") as handle:
        handle.seek(4096)
        handle.write(b"\x7f")
    with pytest.raises(SpeechnbError, match="encoder.pt has sha256 .* not the .* its meta.json records") as refused:
        default_checkpoint(tmp_path / "none.json", shipped=tmp_path / "copy")
    assert "\n" not in str(refused.value)
    meta = json.loads((tmp_path / "copy" / "meta.json").read_text())
    del meta["encoder_sha256"]
    (tmp_path / "copy" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(SpeechnbError, match="records no encoder_sha256"):
        default_checkpoint(tmp_path / "none.json", shipped=tmp_path / "copy")
    with pytest.raises(SpeechnbError, match="no trained speech encoder recorded"):
        default_checkpoint(tmp_path / "none.json", shipped=tmp_path / "absent")


def test_the_model_card_is_rendered_from_the_shipped_meta(load_script):
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "ship_checkpoint.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ship = load_script("ship_checkpoint")
    meta = json.loads((SHIPPED / "meta.json").read_text())
    before = ship.render_card(meta)
    meta["shipped"]["figures"]["ppl_audio"] = 9.8765
    after = ship.render_card(meta)
    assert "9.877" in after and "9.877" not in before and "small CPU run" in after
