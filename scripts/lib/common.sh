# shellcheck shell=bash disable=SC2034
# common.sh - shared by scripts/demo and scripts/test (source it, don't run it).
# Expects the caller to have set -euo pipefail.

# Repository root, whatever the caller's working directory.
FASHION_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Debian 12 packages: to build, and to run the demo and the test suite.
BUILD_PACKAGES=(
	build-essential autoconf automake libtool pkg-config
	libfcgi-dev libpq-dev libcurl4-openssl-dev libjson-c-dev
	libconfig-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev libsodium-dev
)
RUNTIME_PACKAGES=(
	postgresql nginx openssl curl ca-certificates
	perl libwww-perl liblwp-protocol-https-perl libjson-perl
	libio-socket-ssl-perl
)
# Only for scripts/test: libFuzzer harnesses (t/70-fuzz.t) and bench/run;
# node and npm for the JS-driven tests (t/js/: the Databricks JS SDK in
# t/88-vsd-sdk.t, playwright-core in t/95-storefront.t); chromium for t/95.
TEST_PACKAGES=(clang libclang-rt-14-dev wrk nodejs npm chromium)

msg() { printf '%s: %s\n' "${0##*/}" "$*"; }
warn() { printf '%s: warning: %s\n' "${0##*/}" "$*" >&2; }
die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# as_root CMD...: run CMD as root, through sudo when we are not root.
as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root for: $* (run as root, or install sudo)"
	fi
}

# provided PKG: an installed package Provides PKG (NodeSource's nodejs
# provides npm and conflicts with Debian's npm package).
provided() {
	dpkg-query -W -f='${db:Status-Abbrev}|${Provides}\n' 2>/dev/null |
	    awk -F'|' -v p="$1" '$1 ~ /^ii/ {
		n = split($2, a, / *, */)
		for (i = 1; i <= n; i++) { sub(/^ +/, "", a[i]); sub(/ .*/, "", a[i]); if (a[i] == p) f = 1 }
	    } END { exit !f }'
}

# ensure_packages PKG...: install the ones not installed (nor provided) yet;
# apt-get update runs at most once per script run, and only if something is
# missing.
_apt_updated=0
ensure_packages() {
	local p missing=()
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'install ok installed' && ! provided "$p"; then
			missing+=("$p")
		fi
	done
	[[ ${#missing[@]} -gt 0 ]] || return 0
	command -v apt-get >/dev/null 2>&1 ||
		die "missing packages ${missing[*]} and no apt-get (Debian 12 expected)"
	msg "installing ${missing[*]}"
	if [[ $_apt_updated -eq 0 ]]; then
		as_root apt-get update -q
		_apt_updated=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q "${missing[@]}"
}

# The PostgreSQL server binaries (initdb, pg_ctl, postgres) are not on PATH
# on Debian; put the newest installed major version's first.  1 if none.
add_pg_bindir() {
	local d
	d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d \
		2>/dev/null | sort -V | tail -n 1)
	[[ -n $d ]] || return 1
	PATH="$d:$PATH"
	export PATH
}

# build [CONFIGURE-ARGS...]: autoreconf, configure and make in the repo root.
# FRESH=1 forces all three (and a clean); otherwise each step runs only
# when its output is missing.  Each step is checked (set -e does not
# apply when the caller tests the result).
build() {
	local jobs
	jobs=$(nproc 2>/dev/null || echo 2)
	cd "$FASHION_ROOT" || return 1
	if [[ ${FRESH:-0} -eq 1 ]]; then
		if [[ -f Makefile ]]; then
			make -s distclean >/dev/null 2>&1 || true
		fi
		autoreconf -fi || return 1
		./configure "$@" || return 1
	else
		if [[ ! -x configure ]]; then autoreconf -fi || return 1; fi
		if [[ ! -f Makefile ]]; then ./configure "$@" || return 1; fi
	fi
	make -j"$jobs" || return 1
}

# install_js_deps: the npm packages of t/js/package-lock.json (the Databricks
# JS SDK that t/88-vsd-sdk.t runs, playwright-core for t/95-storefront.t)
# into t/js/node_modules, with npm ci.  Without npm, or when npm ci fails
# (no registry), a warning: those tests then skip.  Never fails the caller.
install_js_deps() {
	if ! command -v npm >/dev/null 2>&1; then
		warn "npm not found: not installing t/js (t/88 and t/95 will skip)"
		return 0
	fi
	msg "installing the JS test dependencies (npm ci --prefix t/js)"
	npm ci --prefix "$FASHION_ROOT/t/js" --no-audit --no-fund \
	    --prefer-offline --loglevel=error ||
		warn "npm ci --prefix t/js failed (t/88 and t/95 will skip)"
}
