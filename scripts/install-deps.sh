#!/usr/bin/env bash
# Installs the system packages the tests need that a fresh machine may lack:
# OpenSSL's headers and pkg-config (reqwest's default native-tls in
# examples/http-fetch builds openssl-sys) and the openssl command (the HTTPS
# test server); tmux (the terminal tests run crossterm plugins in a tmux
# pane). Installs only what is missing; needs root for apt-get.
set -euo pipefail
missing=()
for package in libssl-dev pkg-config openssl tmux; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi
