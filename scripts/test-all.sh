#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs the real TLS peers the tests start
# (on 127.0.0.1 only), checks formatting and lints, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v openssl >/dev/null || need+=(openssl)
command -v gnutls-serv >/dev/null || need+=(gnutls-bin)
command -v nginx >/dev/null || need+=(nginx)
command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
command -v curl >/dev/null || need+=(curl)
command -v faketime >/dev/null || need+=(faketime)
command -v node >/dev/null || need+=(nodejs)
command -v javac >/dev/null || need+=(openjdk-17-jdk-headless)
command -v python3 >/dev/null || need+=(python3 python3-venv)
command -v chromium >/dev/null || need+=(chromium)
command -v pypy3 >/dev/null || need+=(pypy3)
# Go's crypto/tls, one of the real clients `check` observes (tests/integration/live/go.rs).
command -v go >/dev/null || need+=(golang-go)
# testssl.sh for the ignored comparison tests/integration/vulns/other_tools.rs.
command -v testssl >/dev/null || need+=(testssl.sh)
# STARTTLS servers and clients (tests/integration/starttls/); the tests run their own
# instances on loopback ports, never the packaged services.
[ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd dovecot-pop3d)
[ -x /usr/lib/dovecot/lmtp ] || need+=(dovecot-lmtpd)
[ -x /usr/lib/dovecot/managesieve ] || need+=(dovecot-managesieved)
[ -x /usr/sbin/postfix ] || need+=(postfix)
command -v psql >/dev/null || need+=(postgresql postgresql-client)
[ -x /usr/sbin/vsftpd ] || need+=(vsftpd)
[ -x /usr/sbin/slapd ] || need+=(slapd ldap-utils)
[ -x /usr/sbin/mariadbd ] || need+=(mariadb-server mariadb-client)
command -v prosody >/dev/null || need+=(prosody)
command -v redis-server >/dev/null || need+=(redis-server)
command -v tinyproxy >/dev/null || need+=(tinyproxy)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
[ -x /usr/sbin/xrdp ] || need+=(xrdp)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing test peers: ${need[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  # Packaged daemons must not start system-wide services: the tests start their own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
# The library documentation must build without a warning (issue 12).
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --quiet
# Three at a time: the tests start real servers and clients (JVMs, Chromium, pip), and on a
# two-core CI machine four at once made load-sensitive waits fail now and then.
cargo test --all-targets --locked -- --test-threads="${TEST_THREADS:-3}"
# --all-targets leaves out doc tests: the library example in src/lib.rs must keep compiling.
cargo test --doc --locked
