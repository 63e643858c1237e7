#!/usr/bin/env bash
# The test command (README, CI): formatting, lints, every test (unit and
# end to end against moto's server, which the tests start themselves), and
# the infrastructure checks. Installs what is missing first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source scripts/lib/ensure-tools.sh
ensure_moto

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (unit, end to end against moto)"
cargo test --workspace --locked

if [ -f infra/test.sh ]; then
  step "infrastructure: terraform fmt/validate, checkov, apply/plan/destroy against moto"
  # Packages: target/lambda/<fn>/bootstrap.zip when `cargo lambda build
  # --release --output-format zip` has made them, otherwise a tiny
  # placeholder: moto stores Lambda code but never runs it, and uploading
  # 50 MB debug binaries would only slow the apply.
  PACKAGE_DIR="${PACKAGE_DIR:-target/lambda}" bash infra/test.sh
fi
