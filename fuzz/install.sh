#!/usr/bin/env bash
# Installs cargo-fuzz (libFuzzer; fuzz/run.sh builds without a sanitizer, as the code is
# `#![forbid(unsafe_code)]`), which runs on the stable toolchain
# with RUSTC_BOOTSTRAP=1 (fuzz/run.sh sets it).
set -euo pipefail
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --version 0.13.2
