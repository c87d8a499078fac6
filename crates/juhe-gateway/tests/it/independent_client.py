"""An independent Juhe client, written from Juhe's documents with Python's `cryptography`:
what a team's existing Python service would send. Prints the answer's body and headers as one
JSON object.

usage: independent_client.py BASE_URL MODE KEY OPENID PUBLIC_KEY_PEM_FILE NAME IDCARD MOBILE

MODE: telecom3-aes (telecom3/queryEncry, AES-128-ECB under the openid's key),
      telecom3-rsa (telecom3/queryRV2, RSA OAEP SHA-1),
      idcard-rsa   (idcard/queryEncryV2, AES-128-CBC under a random key wrapped with RSA PKCS#1 v1.5).
"""
import base64, hashlib, json, os, sys, urllib.parse, urllib.request

from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

base, mode, key, openid, pem_file, name, idcard, mobile = sys.argv[1:9]
openid_key = hashlib.md5(openid.encode()).hexdigest()[:16].encode()
public_key = serialization.load_pem_public_key(open(pem_file, "rb").read())


def aes(key_bytes, data, iv=None):
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data.encode()) + padder.finalize()
    cipher = Cipher(algorithms.AES(key_bytes), modes.CBC(iv) if iv else modes.ECB())
    encryptor = cipher.encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def rsa_oaep(data):
    oaep = rsa_padding.OAEP(mgf=rsa_padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    return base64.b64encode(public_key.encrypt(data.encode(), oaep)).decode()


if mode == "telecom3-aes":
    path = "/telecom3/queryEncry"
    form = {"key": key, "realname": aes(openid_key, name), "idcard": aes(openid_key, idcard),
            "mobile": aes(openid_key, mobile), "orderid": "1"}
elif mode == "telecom3-rsa":
    path = "/telecom3/queryRV2"
    form = {"key": key, "realname": rsa_oaep(name), "idcard": rsa_oaep(idcard), "mobile": rsa_oaep(mobile),
            "orderid": "1"}
elif mode == "idcard-rsa":
    path = "/idcard/queryEncryV2"
    session = base64.b16encode(os.urandom(8)).decode().encode()  # 16 ASCII characters
    wrapped = base64.b64encode(public_key.encrypt(session, rsa_padding.PKCS1v15())).decode()
    form = {"key": key, "realname": aes(session, name, openid_key), "idcard": aes(session, idcard, openid_key),
            "aesKey": wrapped, "orderid": "1"}
else:
    sys.exit("unknown mode " + mode)

body = urllib.parse.urlencode(form).encode()
request = urllib.request.Request(base + path, data=body,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
with urllib.request.urlopen(request, timeout=30) as response:
    answer = json.loads(response.read())
    headers = {k.lower(): v for k, v in response.getheaders() if k.lower().startswith("x-juhe")}
print(json.dumps({"answer": answer, "headers": headers}, ensure_ascii=False))
