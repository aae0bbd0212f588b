#!/bin/sh
# Install everything litehsm needs to build and to run all of its tests on
# Debian 12.  Run as root (or with sudo).  Used by the README and .ci/run.
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
	autoconf automake libtool pkg-config make gcc libc6-dev \
	libssl-dev openssl libsqlite3-dev sqlite3 libargon2-dev \
	libp11-kit-dev p11-kit \
	opensc gnutls-bin softhsm2 libengine-pkcs11-openssl \
	openssh-client openjdk-17-jdk-headless libnss3-tools \
	nginx curl postgresql-15 postgresql-client-15 redis-server redis-tools \
	binutils ca-certificates python3
