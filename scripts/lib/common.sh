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
# Only for scripts/test: libFuzzer harnesses (t/70-fuzz.t) and bench/run.
TEST_PACKAGES=(clang libclang-rt-14-dev wrk)

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

# ensure_packages PKG...: install the ones not installed yet; apt-get update
# runs at most once per script run, and only if something is missing.
_apt_updated=0
ensure_packages() {
	local p missing=()
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'install ok installed'; then
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
