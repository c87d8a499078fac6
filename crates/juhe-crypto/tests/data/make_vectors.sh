#!/usr/bin/env bash
# Makes the known-answer vectors in vectors.tsv with OpenSSL, an implementation independent of
# the Rust crates juhe-crypto uses. Run from anywhere: `bash make_vectors.sh`.
#
# The RSA key pair (rsa_private.pem and its public forms) is a TEST KEY, PUBLIC AND INSECURE:
# it is committed so the vectors can be checked. It is made once and kept; delete it to renew.
# RSA ciphertexts are randomized, so each run writes new ones; the test only checks that our
# decryption opens them.
set -euo pipefail
cd "$(dirname "$0")"
export LC_ALL=C.UTF-8

if [ ! -f rsa_private.pem ]; then
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa_private.pem
fi
openssl pkey -in rsa_private.pem -pubout -out rsa_public_spki.pem
openssl pkey -in rsa_private.pem -traditional -out rsa_private_pkcs1.pem
openssl rsa -in rsa_private.pem -RSAPublicKey_out -out rsa_public_pkcs1.pem 2>/dev/null
openssl pkey -in rsa_private.pem -pubout -outform DER | base64 -w0 > rsa_public_spki.b64
openssl rsa -in rsa_private.pem -RSAPublicKey_out -outform DER 2>/dev/null | base64 -w0 > rsa_public_pkcs1.b64

md5hex() { openssl dgst -md5 -r | cut -c1-32; }
hexof() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
openid_key() { printf '%s' "$1" | md5hex | cut -c1-16; }

openids=("JH8c2d8f1e0a7b4c3d9e6f5a4b3c2d1e0f" "abc" "" "开放平台用户")
plaintexts=("张三" "欧阳·娜娜" "110101199003077777" "13912345678" "𠮷野家" "0123456789abcdef" \
  "" "A much longer field, more than one block: 阿依古丽·买买提 / 42 bytes+")

out=vectors.tsv
printf '# made by make_vectors.sh with %s; columns per kind are documented in that script\n' \
  "$(openssl version | cut -d' ' -f1-2)" > "$out"

# openid_key <openid> <16-character key>
for id in "${openids[@]}"; do
  printf 'openid_key\t%s\t%s\n' "$id" "$(openid_key "$id")" >> "$out"
done

# sign <openid> <key> <realname> <idcard> <mobile> <md5>
sign_row() {
  printf 'sign\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" \
    "$(printf '%s%s%s%s%s' "$1" "$2" "$3" "$4" "$5" | md5hex)" >> "$out"
}
sign_row "JH8c2d8f1e0a7b4c3d9e6f5a4b3c2d1e0f" "0a1b2c3d4e5f60718293a4b5c6d7e8f9" "张三" "110101199003077777" "13912345678"
sign_row "abc" "k" "欧阳·娜娜" "44030519900101001X" "15800001111"

# ecb <openid> <plaintext> <base64>
for id in "${openids[@]}"; do
  key=$(openid_key "$id")
  for pt in "${plaintexts[@]}"; do
    ct=$(printf '%s' "$pt" | openssl enc -aes-128-ecb -K "$(hexof "$key")" -nosalt | base64 -w0)
    printf 'ecb\t%s\t%s\t%s\n' "$id" "$pt" "$ct" >> "$out"
  done
done

# cbc <16-character AES key> <openid, whose key is the IV> <plaintext> <base64>
for aes in "Ab3dE5gH7jK9mN1p" "0000000000000000"; do
  for id in "${openids[@]:0:2}"; do
    iv=$(openid_key "$id")
    for pt in "${plaintexts[@]}"; do
      ct=$(printf '%s' "$pt" | openssl enc -aes-128-cbc -K "$(hexof "$aes")" -iv "$(hexof "$iv")" | base64 -w0)
      printf 'cbc\t%s\t%s\t%s\t%s\n' "$aes" "$id" "$pt" "$ct" >> "$out"
    done
  done
done

# rsa_oaep <plaintext> <base64>, rsa_pkcs1 <plaintext> <base64>, with rsa_public_spki.pem
for pt in "${plaintexts[@]:0:6}" "Ab3dE5gH7jK9mN1p"; do
  oaep=$(printf '%s' "$pt" | openssl pkeyutl -encrypt -pubin -inkey rsa_public_spki.pem \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha1 -pkeyopt rsa_mgf1_md:sha1 | base64 -w0)
  printf 'rsa_oaep\t%s\t%s\n' "$pt" "$oaep" >> "$out"
  pkcs1=$(printf '%s' "$pt" | openssl pkeyutl -encrypt -pubin -inkey rsa_public_spki.pem \
    -pkeyopt rsa_padding_mode:pkcs1 | base64 -w0)
  printf 'rsa_pkcs1\t%s\t%s\n' "$pt" "$pkcs1" >> "$out"
done
echo "wrote $(grep -vc '^#' "$out") vectors to $out"
