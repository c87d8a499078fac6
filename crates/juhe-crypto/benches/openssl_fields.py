"""OpenSSL's time for the RSA of one Juhe field, through Python's `cryptography` (OpenSSL
bindings): the reference beside which `cargo bench -p juhe-crypto` reports our backends.

Usage: python3 openssl_fields.py DATA_DIR CALLS. Prints `operation microseconds` lines, each the
mean of CALLS calls, base64 included as in ours. (AES is not here: for 16-32 bytes Python's
call overhead would be most of what it measured.)
"""
import base64
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

data_dir, calls = sys.argv[1], int(sys.argv[2])
with open(f"{data_dir}/rsa_private.pem", "rb") as f:
    private = serialization.load_pem_private_key(f.read(), password=None)
public = private.public_key()
field = "44030519900101001X".encode()
oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
pkcs1 = padding.PKCS1v15()

signature = private.sign(field, pkcs1, hashes.SHA256())
sha256 = hashes.SHA256()

sealed_oaep = base64.b64encode(public.encrypt(field, oaep))
sealed_pkcs1 = base64.b64encode(public.encrypt(field, pkcs1))
operations = {
    "rsa_encrypt_oaep": lambda: base64.b64encode(public.encrypt(field, oaep)),
    "rsa_encrypt_pkcs1": lambda: base64.b64encode(public.encrypt(field, pkcs1)),
    "rsa_decrypt_oaep": lambda: private.decrypt(base64.b64decode(sealed_oaep), oaep),
    "rsa_decrypt_pkcs1": lambda: private.decrypt(base64.b64decode(sealed_pkcs1), pkcs1),
    # The library's call only, and the bare public-key operation (a signature check), as the
    # Rust side measures them.
    "rsa_encrypt_oaep_alone": lambda: public.encrypt(field, oaep),
    "rsa_public_op_verify": lambda: public.verify(signature, field, pkcs1, sha256),
}
for name, operation in operations.items():
    # Decryption is ~20x slower than encryption: fewer calls keep each line short.
    n = calls // 20 if "decrypt" in name else calls
    operation()
    start = time.perf_counter()
    for _ in range(n):
        operation()
    print(name, (time.perf_counter() - start) / n * 1e6)
