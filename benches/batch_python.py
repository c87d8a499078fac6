"""The batch a user would otherwise write: Python `requests` and a thread pool.

Reads IN.csv (name, idcard, mobile), posts each row to telecom3 (plain or RSA-OAEP, the same
form fields as juhe-rs), parses the JSON answer, writes OUT.csv. Used by batch_throughput.sh
as the peer of `juhe batch`.

    python3 batch_python.py BASE_URL KEY MODE CONCURRENCY IN.csv OUT.csv [PUBLIC_KEY.pem]
"""
import base64
import csv
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

base_url, key, mode, concurrency, in_path, out_path = sys.argv[1:7]
concurrency = int(concurrency)
endpoint = {"plain": "telecom3/query", "rsa": "telecom3/queryRV2"}[mode]
encrypt = lambda text: text
if mode == "rsa":
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    public_key = serialization.load_pem_public_key(open(sys.argv[7], "rb").read())
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    encrypt = lambda text: base64.b64encode(public_key.encrypt(text.encode(), oaep)).decode()

local = threading.local()


def session():
    if not hasattr(local, "session"):
        local.session = requests.Session()
    return local.session


def check(row):
    form = {"key": key, "realname": encrypt(row["name"]), "idcard": encrypt(row["idcard"]), "mobile": encrypt(row["mobile"])}
    answer = session().post(f"{base_url}/{endpoint}", data=form, timeout=30).json()
    result = answer.get("result") or {}
    return [row["name"], row["idcard"], row["mobile"], answer.get("error_code"), answer.get("reason"), result.get("res"), result.get("rescode")]


with open(in_path, encoding="utf-8") as f_in, open(out_path, "w", encoding="utf-8", newline="") as f_out:
    writer = csv.writer(f_out)
    writer.writerow(["name", "idcard", "mobile", "error_code", "reason", "res", "rescode"])
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for out_row in pool.map(check, csv.DictReader(f_in)):
            writer.writerow(out_row)
