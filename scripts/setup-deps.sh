#!/usr/bin/env bash
# Installs the real components the tests use, when they are missing:
#   postfix (postconf, postmap, posttls-finger, smtp), postfix-pcre, postfix-cdb, postfix-lmdb, nsd, unbound,
#   ldnsutils (ldns-signzone, ldns-keygen), openssl, iproute2, prometheus (the server the
#   smtpclient/monitor integration test scrapes the monitor with), and
#   postfix-mta-sts-resolver (mta-sts-daemon, the MTA-STS socketmap server of the conformance suite).
# As root on Debian it installs them with apt-get, non-interactively, with Postfix's
# "No configuration" answer and without starting any of their system services.
# Without root it prints exactly what to install and exits 1.
set -euo pipefail

# command -> Debian package
declare -A need=(
  [postconf]=postfix [postmap]=postfix [posttls-finger]=postfix
  [nsd]=nsd [unbound]=unbound [ldns-signzone]=ldnsutils [ldns-keygen]=ldnsutils
  [openssl]=openssl [ip]=iproute2 [prometheus]=prometheus [mta-sts-daemon]=postfix-mta-sts-resolver
)
PATH="$PATH:/usr/sbin:/sbin"
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
# pcre:, cdb: and lmdb: tables need their dictionary plugins for postmap
for plugin in postfix-pcre postfix-cdb postfix-lmdb; do
  if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${Status}' "$plugin" 2>/dev/null | grep -q 'install ok installed' || missing+=("$plugin")
  elif ! ls /usr/lib/postfix/"$plugin".so* >/dev/null 2>&1; then
    missing+=("$plugin")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-deps: missing packages: ${pkgs[*]}" >&2
  echo "setup-deps: install them as root with:" >&2
  echo "  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections" >&2
  echo "  apt-get update && apt-get install -y ${pkgs[*]}" >&2
  exit 1
fi

echo "setup-deps: installing ${pkgs[*]}" >&2
# Keep the packages' system services from starting (we start private copies ourselves).
created_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
trap '[ -n "$created_policy" ] && rm -f /usr/sbin/policy-rc.d' EXIT
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
# Stop anything that started anyway.
for svc in postfix nsd unbound prometheus postfix-mta-sts-resolver; do
  if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
done
echo "setup-deps: done" >&2
