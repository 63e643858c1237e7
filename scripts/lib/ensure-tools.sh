# Installs the local tools the project needs when they are missing.
# Sourced by scripts/test.sh and scripts/run.sh.

pip_install() {
  python3 -m pip install --quiet --disable-pip-version-check "$@"
}

ensure_moto() {
  # The tests run `python3 -m moto.server`, so the module is what counts.
  if ! python3 -c "import moto.server, flask" >/dev/null 2>&1; then
    echo "installing moto[server] (local AWS emulator)..."
    pip_install "moto[server]>=5.1,<6"
    command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
    hash -r
  fi
}

ensure_cargo_lambda() {
  if ! cargo lambda --version >/dev/null 2>&1; then
    echo "installing cargo-lambda..."
    pip_install "cargo-lambda>=1.8"
    hash -r
  fi
}
