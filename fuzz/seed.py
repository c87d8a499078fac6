#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/) from what the
project already holds: the response cases of the snapshot tests, the request bodies of the
request snapshots, the key files, batch CSV shapes and validator inputs. Run from anywhere:
`python3 fuzz/seed.py`. The corpora are committed; re-run after adding cases."""
import hashlib, os, re, glob

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


# decode_responses: a status selector byte, then each response body of the snapshots.
for path in glob.glob(os.path.join(ROOT, "crates/juhe-proto/tests/it/snapshots/it__responses__*.snap")):
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^(\d{3}) (.*)$", line.rstrip("\n"))
        if m:
            put("decode_responses", bytes([0]) + m.group(2).encode())

# sandbox_requests: an endpoint selector byte, then each request body of the snapshots
# without its leading key (the target adds the right one).
for index, path in enumerate(sorted(glob.glob(os.path.join(ROOT, "crates/juhe-proto/tests/it/snapshots/it__requests__*.snap")))):
    for line in open(path, encoding="utf-8"):
        if line.startswith("key="):
            put("sandbox_requests", bytes([index]) + line.split("&", 1)[1].strip().encode())

# rsa_public_key: every form of the test keys, and the wrong things.
for path in glob.glob(os.path.join(ROOT, "crates/juhe-crypto/tests/data/**/*.pem"), recursive=True) + \
        glob.glob(os.path.join(ROOT, "crates/juhe-crypto/tests/data/*.b64")):
    put("rsa_public_key", open(path, "rb").read())

# batch_files: the shapes the batch tests use.
for text in [
    "name,idcard,mobile\n张三,11010519491231002X,13912345678\n",
    "\ufeff客户编号,姓名,身份证号码,手机号码,备注\r\nC1,\"张三\",11010519491231002x,13912345678,\"含\"\"引号\"\"\"\r\n",
    "name,idcard,mobile\nonly,two\n张三,\"110105,139\n",
    "name,juhe_row,juhe_reason\n张三,1,ok\r\n\"李\n四\",2,ok\n王五,3,o",
]:
    put("batch_files", text)
put("batch_files", "姓名,身份证号码,手机号码\r\n张三,11010519491231002X,13912345678\r\n".encode("gb18030"))
put("batch_files", b"\xff\xfe" + "name,idcard,mobile\n".encode("utf-16-le"))

# validators: names, numbers and image headers.
for text in ["张三", "阿依古丽·买买提", "Ame\u0301lie", " 11010519491231002x\n", "+86 139-1234-5678", "１３９１２３４５６７８"]:
    put("validators", text)
put("validators", bytes([0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, 0, 32, 0, 32, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9]))
put("validators", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x20\0\0\0\x20\x08\x02\0\0\0")
print("seeds:", {t: len(os.listdir(os.path.join(CORPUS, t))) for t in sorted(os.listdir(CORPUS))})
