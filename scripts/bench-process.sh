#!/usr/bin/env bash
# Whole-process benchmarks of jwtai (README, "Benchmarks"):
#   1. `jwtai diagnose TOKEN --secret-file F` wall time against `jwtai --version`
#      (process start-up), with hyperfine;
#   2. `jwtai scan` throughput on generated logs (HS256 and RS256, every token
#      distinct), wall time and max RSS from /usr/bin/time;
#   3. memory flatness: max RSS scanning N and 10N lines, with a pool of
#      repeated tokens (a real log) and with every token distinct (worst case:
#      the dedup table grows by ~40 bytes per distinct token, up to --max-distinct).
# Needs: cargo, hyperfine, GNU time (/usr/bin/time). Numbers taken while other
# processes load the machine are noisy: the script prints the load average.
#
#   scripts/bench-process.sh            # N=100000
#   N=20000 scripts/bench-process.sh    # quicker
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
RS_N=${RS_N:-10000}
TARGET=${CARGO_TARGET_DIR:-target}
WORK=${WORK:-$TARGET/bench-process}
NOW=1767225600
AUD=https://api.example.com

command -v hyperfine >/dev/null || { echo "hyperfine is missing (apt-get install hyperfine)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "GNU time is missing (apt-get install time)" >&2; exit 2; }

cargo build --release --quiet --bin jwtai --example gen-log
J=$TARGET/release/jwtai
GEN=$TARGET/release/examples/gen-log
mkdir -p "$WORK"

echo "## Machine"
echo "cpus: $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

echo "## Whole-process diagnose (HS256, --secret-file, no network)"
"$GEN" "$WORK/one" 1 1 HS256
TOKEN=$(grep -o 'eyJ[A-Za-z0-9_.-]*' "$WORK/one/access.log" | head -1)
hyperfine -N --warmup 20 --runs 300 \
  "$J --version" \
  "$J diagnose $TOKEN --secret-file $WORK/one/secret --aud $AUD --now $NOW" 2>&1 |
  grep -E 'Benchmark|Time|Range' | sed "s#$TOKEN#TOKEN#"
echo

# scan LOGDIR [FLAGS]: prints lines, tokens, distinct, seconds, tokens/s, max RSS.
# Human output (the summary); `--format json` also renders every report.
scan() {
  local dir=$1; shift
  local keyflag=(--secret-file "$dir/secret")
  [ -f "$dir/public.pem" ] && keyflag=(--key "$dir/public.pem")
  /usr/bin/time -f '%e %M' -o "$dir/time" \
    "$J" scan "$dir/access.log" "${keyflag[@]}" --aud "$AUD" --now "$NOW" --color never "$@" \
    | tail -n +1 > "$dir/out.txt"
  read -r secs rss < "$dir/time"
  local tokens distinct
  if grep -q '^SCAN' "$dir/out.txt"; then
    read -r tokens distinct < <(head -1 "$dir/out.txt" | sed -E 's/^SCAN +([0-9]+) token\(s\), ([0-9]+) distinct.*/\1 \2/')
  else
    tokens=$(tail -1 "$dir/out.txt" | grep -o '"total":[0-9]*' | head -1 | cut -d: -f2)
    distinct=$(tail -1 "$dir/out.txt" | grep -o '"distinct":[0-9]*' | head -1 | cut -d: -f2)
  fi
  awk -v t="$tokens" -v d="$distinct" -v s="$secs" -v r="$rss" -v l="$(wc -l < "$dir/access.log")" \
    'BEGIN { printf "%9d lines %9d tokens %9d distinct %7.2f s %10.0f tokens/s %8.1f MiB max RSS\n", l, t, d, s, (s > 0 ? t / s : 0), r / 1024 }'
}

echo "## Scan throughput (whole process, every token distinct)"
"$GEN" "$WORK/hs-$N" "$N" "$N" HS256
echo -n "HS256:        "; scan "$WORK/hs-$N"
echo -n "HS256, JSONL: "; scan "$WORK/hs-$N" --format json
"$GEN" "$WORK/rs-$RS_N" "$RS_N" "$RS_N" RS256
echo -n "RS256:        "; scan "$WORK/rs-$RS_N"
echo

TEN=$((N * 10))
echo "## Memory as the log grows 10x (HS256)"
"$GEN" "$WORK/pool-$N" "$N" 10000 HS256
"$GEN" "$WORK/pool-$TEN" "$TEN" 10000 HS256
echo "repeated tokens (10000 distinct):"
echo -n "  N:   "; scan "$WORK/pool-$N"
echo -n "  10N: "; scan "$WORK/pool-$TEN"
"$GEN" "$WORK/hs-$TEN" "$TEN" "$TEN" HS256
echo "every token distinct:"
echo -n "  N:   "; scan "$WORK/hs-$N"
echo -n "  10N: "; scan "$WORK/hs-$TEN"
echo -n "  10N, --max-distinct $N: "; scan "$WORK/hs-$TEN" --max-distinct "$N"
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
