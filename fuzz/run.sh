#!/usr/bin/env bash
# Builds the fuzz targets (cargo fuzz, nightly) and runs each for FUZZ_SECONDS (default 600),
# two at a time, on a working corpus seeded from fuzz/corpus/<target>; then minimises the
# corpus back into fuzz/corpus/<target>. A crash stops with the input in
# fuzz/artifacts/<target>/: copy it to fuzz/regressions/<target>/ once fixed.
# See docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-600}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/breakglass/target-fuzz}
work=${FUZZ_WORK:-$HOME/.cache/breakglass/fuzz-corpus}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
targets=(playbook config audit_verify frame)
cargo +nightly fuzz build -s none
run() {
  local target=$1
  mkdir -p "$work/$target"
  cp -n corpus/"$target"/* "$work/$target/" 2>/dev/null || true
  cargo +nightly fuzz run -s none "$target" "$work/$target" -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    >"$work/$target.log" 2>&1 && echo "$target: no crash in ${seconds}s ($(grep -c . "$work/$target.log") log lines)" \
    || { echo "$target: CRASH, see $work/$target.log and artifacts/$target/"; return 1; }
}
status=0
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  run "${targets[i]}" & a=$!
  run "${targets[i + 1]}" & b=$!
  wait $a || status=1
  wait $b || status=1
done
for target in "${targets[@]}"; do
  cargo +nightly fuzz cmin -s none "$target" "$work/$target" >/dev/null 2>&1 || true
  rm -f corpus/"$target"/*
  cp "$work/$target"/* corpus/"$target"/
done
exit $status
