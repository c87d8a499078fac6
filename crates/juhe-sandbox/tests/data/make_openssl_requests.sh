#!/usr/bin/env bash
# Makes request bodies for the sandbox's encrypted and signed endpoints with OpenSSL, an
# implementation independent of the Rust crates: `bash make_openssl_requests.sh`.
# The person is the first of the built-in population; the keys are the sandbox's published
# test credentials. RSA is randomized, so each run writes new ciphertexts.
set -euo pipefail
cd "$(dirname "$0")"
export LC_ALL=C.UTF-8

KEY="sandbox-key-0123456789abcdef0123"
OPENID="JHsandbox-openid-0123456789abcde"
PUBLIC=../../keys/sandbox_rsa_public.pem
NAME="肖俊帆"; IDCARD="500101197907020002"; MOBILE="15123013995"

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
# Percent-encodes every byte but A-Z a-z 0-9 - . _ ~ (pure bash: no awk dialect needed).
urlencode() {
  local out="" byte
  for byte in $(printf '%s' "$1" | od -An -tx1 -v); do
    case "$byte" in
      3[0-9]|4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]|2d|2e|5f|7e) out="$out$(printf "\\x$byte")" ;;
      *) out="$out%${byte^^}" ;;
    esac
  done
  printf '%s' "$out"
}
OPENID_KEY=$(printf '%s' "$OPENID" | openssl dgst -md5 -r | cut -c1-16)
ecb() { printf '%s' "$1" | openssl enc -aes-128-ecb -K "$(hex "$OPENID_KEY")" -nosalt | base64 -w0; }
cbc() { printf '%s' "$2" | openssl enc -aes-128-cbc -K "$(hex "$1")" -iv "$(hex "$OPENID_KEY")" | base64 -w0; }
rsa() { printf '%s' "$2" | openssl pkeyutl -encrypt -pubin -inkey "$PUBLIC" $1 | base64 -w0; }
OAEP="-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha1 -pkeyopt rsa_mgf1_md:sha1"
PKCS1="-pkeyopt rsa_padding_mode:pkcs1"
form() { local out="" sep=""; while [ $# -gt 0 ]; do out="$out$sep$1=$(urlencode "$2")"; sep="&"; shift 2; done; printf '%s' "$out"; }

AES_KEY="OpenSSLmadeKey16"
SIGN=$(printf '%s%s%s%s%s' "$OPENID" "$KEY" "$NAME" "$IDCARD" "$MOBILE" | openssl dgst -md5 -r | cut -c1-32)
{
  echo "# made by make_openssl_requests.sh with $(openssl version | cut -d' ' -f1-2): api, then the form body"
  printf 'telecom3/verify\t%s\n' "$(form key "$KEY" realname "$NAME" idcard "$IDCARD" mobile "$MOBILE" sign "$SIGN")"
  printf 'idcard/queryEncry\t%s\n' "$(form key "$KEY" realname "$(ecb "$NAME")" idcard "$(ecb "$IDCARD")")"
  printf 'telecom2Cucc/queryEncry\t%s\n' "$(form key "$KEY" idcard "$(ecb "$IDCARD")" mobile "$(ecb "$MOBILE")")"
  printf 'telecom3/queryEncry\t%s\n' "$(form key "$KEY" realname "$(ecb "$NAME")" idcard "$(ecb "$IDCARD")" mobile "$(ecb "$MOBILE")")"
  printf 'telecom2Cucc/queryRV2\t%s\n' "$(form key "$KEY" idcard "$(rsa "$OAEP" "$IDCARD")" mobile "$(rsa "$OAEP" "$MOBILE")")"
  printf 'telecom3/queryRV2\t%s\n' "$(form key "$KEY" realname "$(rsa "$OAEP" "$NAME")" idcard "$(rsa "$OAEP" "$IDCARD")" mobile "$(rsa "$OAEP" "$MOBILE")")"
  printf 'idcard/queryEncryV2\t%s\n' "$(form key "$KEY" aesKey "$(rsa "$PKCS1" "$AES_KEY")" realname "$(cbc "$AES_KEY" "$NAME")" idcard "$(cbc "$AES_KEY" "$IDCARD")")"
} > openssl_requests.tsv
echo "wrote $(grep -vc '^#' openssl_requests.tsv) requests to openssl_requests.tsv"
