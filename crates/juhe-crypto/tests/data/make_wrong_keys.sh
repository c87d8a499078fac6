#!/usr/bin/env bash
# Makes the keys that are NOT what Juhe's account page shows, for the tests of the messages a
# user gets when pasting the wrong thing: an EC public key, an X.509 certificate, a 1024-bit
# RSA public key. TEST KEYS, PUBLIC AND INSECURE; made once and committed.
# Run from anywhere: `bash make_wrong_keys.sh`.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p wrong_keys
cd wrong_keys
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec_private.pem
openssl pkey -in ec_private.pem -pubout -out ec_public.pem
openssl req -x509 -key ../rsa_private.pem -subj /CN=juhe-test -days 36500 -out certificate.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024_private.pem
openssl pkey -in rsa1024_private.pem -pubout -out rsa1024_public.pem
rm ec_private.pem rsa1024_private.pem
