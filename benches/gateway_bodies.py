"""Form bodies of telecom3/queryEncry (AES-128-ECB under the openid's key), one distinct person
each, for benches/gateway.sh: one line per body, URL-encoded.

Usage: python3 benches/gateway_bodies.py PEOPLE.csv KEY OPENID OUT   (PEOPLE.csv: benches/people.py)
"""
import base64
import csv
import hashlib
import sys
import urllib.parse

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

people_file, key, openid, out = sys.argv[1:5]
aes_key = hashlib.md5(openid.encode()).hexdigest()[:16].encode()


def field(text):
    padder = padding.PKCS7(128).padder()
    data = padder.update(text.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(aes_key), modes.ECB()).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


with open(out, "w") as f:
    for p in csv.DictReader(open(people_file, encoding="utf-8")):
        form = {"key": key, "realname": field(p["name"]), "idcard": field(p["idcard"]),
                "mobile": field(p["mobile"]), "orderid": "1"}
        f.write(urllib.parse.urlencode(form) + "\n")
