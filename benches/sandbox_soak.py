#!/usr/bin/env python3
"""Soak test of `juhe sandbox serve`: good, malformed and slow clients at once for a while,
with the server's RSS and good requests' latency sampled every 10 seconds.

Usage: python3 benches/sandbox_soak.py [seconds] (default 600). Builds nothing: run
`cargo build --release -p juhe-cli` first. Prints a markdown table for docs/benchmarks.md.

Clients (threads):
- good: telecom3 checks of built-in people, one after another, latency recorded;
- garbage: random bytes, then close;
- bad chunks: a chunked body with a broken chunk size;
- slowloris: a request head dripped a byte every 2 s, never finished;
- idle: connections opened and left silent;
- half uploads: a head announcing 15 MB and 1 MB of body, then silence.
"""
import json, os, random, socket, subprocess, sys, tempfile, threading, time, urllib.parse

DURATION = int(sys.argv[1]) if len(sys.argv) > 1 else 600
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JUHE = os.path.join(ROOT, "target", "release", "juhe")

tmp = tempfile.mkdtemp()
creds_path = os.path.join(tmp, "creds.json")
server = subprocess.Popen([JUHE, "sandbox", "serve", "--quiet", "--addr", "127.0.0.1:0", "--credentials-out", creds_path],
                          stderr=subprocess.DEVNULL)
for _ in range(200):
    if os.path.exists(creds_path) and os.path.getsize(creds_path) > 0:
        break
    time.sleep(0.05)
creds = json.load(open(creds_path))
host, port = creds["base_url"].replace("http://", "").split(":")
port = int(port)
people = json.loads(subprocess.run([JUHE, "sandbox", "identities", "--format", "json"], capture_output=True).stdout)

stop = threading.Event()
latencies, latency_lock = [], threading.Lock()
counts = {"good": 0, "good_failed": 0, "garbage": 0, "bad_chunks": 0, "slowloris": 0, "idle": 0, "half_uploads": 0}


def connect():
    s = socket.create_connection((host, port), timeout=30)
    return s


def good():
    s = None
    while not stop.is_set():
        p = random.choice(people)
        body = urllib.parse.urlencode({"key": creds["key"], "realname": p["name"], "idcard": p["idcard"], "mobile": p["mobile"]})
        request = (f"POST /telecom3/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
                   f"Content-Length: {len(body.encode())}\r\n\r\n{body}").encode()
        started = time.time()
        try:
            if s is None:
                s = connect()
            s.sendall(request)
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = s.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                answer += chunk
            head, rest = answer.split(b"\r\n\r\n", 1)
            length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
            while len(rest) < length:
                rest += s.recv(65536)
            ok = b'"error_code":0' in rest
            with latency_lock:
                latencies.append(time.time() - started)
                counts["good" if ok else "good_failed"] += 1
        except Exception:
            counts["good_failed"] += 1
            s = None
            time.sleep(0.01)


def garbage():
    while not stop.is_set():
        try:
            s = connect(); s.sendall(os.urandom(random.randint(1, 4096))); s.close(); counts["garbage"] += 1
        except Exception:
            pass
        time.sleep(0.005)


def bad_chunks():
    while not stop.is_set():
        try:
            s = connect()
            s.sendall(b"POST /idcard/query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")
            s.recv(4096); s.close(); counts["bad_chunks"] += 1
        except Exception:
            pass
        time.sleep(0.01)


def slowloris():
    while not stop.is_set():
        try:
            s = connect()
            for byte in b"POST /idcard/query HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 100:
                if stop.is_set():
                    break
                s.sendall(bytes([byte])); time.sleep(2)
        except Exception:
            counts["slowloris"] += 1


def idle():
    while not stop.is_set():
        try:
            s = connect(); counts["idle"] += 1
            s.recv(1)  # until the server closes it
        except Exception:
            pass


def half_uploads():
    while not stop.is_set():
        try:
            s = connect()
            s.sendall(b"POST /verifyface_mobile/query HTTP/1.1\r\nHost: x\r\nContent-Length: 15000000\r\n\r\n" + b"a" * (1 << 20))
            counts["half_uploads"] += 1
            s.recv(4096)  # a 503, or the close at the header timeout
        except Exception:
            pass


def rss_mb():
    for line in open(f"/proc/{server.pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


threads = [threading.Thread(target=f, daemon=True) for f in
           [good, good, garbage, bad_chunks] + [slowloris] * 20 + [idle] * 40 + [half_uploads] * 10]
for t in threads:
    t.start()
print(f"| elapsed s | server RSS MB | good answers | p50 ms | p99 ms | max ms | failed good | garbage | bad chunks | slowloris closed | half uploads |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
started = time.time()
peak = 0.0
while time.time() - started < DURATION:
    time.sleep(10)
    with latency_lock:
        window = sorted(latencies); latencies.clear()
    rss = rss_mb(); peak = max(peak, rss)
    pct = lambda q: window[min(len(window) - 1, int(q * len(window)))] * 1000 if window else float("nan")
    print(f"| {time.time() - started:.0f} | {rss:.1f} | {len(window)} | {pct(0.5):.2f} | {pct(0.99):.2f} | "
          f"{(window[-1] * 1000 if window else float('nan')):.2f} | {counts['good_failed']} | {counts['garbage']} | "
          f"{counts['bad_chunks']} | {counts['slowloris']} | {counts['half_uploads']} |", flush=True)
stop.set()
server.terminate(); server.wait()
print(f"\npeak server RSS {peak:.1f} MB over {DURATION} s")
