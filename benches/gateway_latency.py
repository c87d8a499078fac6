"""Latency at a fixed rate: POSTs the bodies of BODIES to URL one at a time, RATE a second,
over one keep-alive connection, and prints the median, p99 and max in milliseconds.

Usage: python3 benches/gateway_latency.py URL BODIES RATE SECONDS
"""
import http.client
import sys
import time
import urllib.parse

url, bodies_file, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
parsed = urllib.parse.urlparse(url)
bodies = open(bodies_file).read().splitlines()
connection = http.client.HTTPConnection(parsed.hostname, parsed.port)
took, start, n = [], time.perf_counter(), int(rate * seconds)
for i in range(n):
    due = start + i / rate
    pause = due - time.perf_counter()
    if pause > 0:
        time.sleep(pause)
    sent = time.perf_counter()
    connection.request("POST", parsed.path, bodies[i % len(bodies)],
                       {"Content-Type": "application/x-www-form-urlencoded"})
    answer = connection.getresponse().read()
    took.append((time.perf_counter() - sent) * 1000)
    assert b'"error_code":0' in answer, answer[:200]
took.sort()
print(f"{n} checks at {rate:g}/s: median {took[n // 2]:.2f} ms, p99 {took[int(n * 0.99)]:.2f} ms, max {took[-1]:.2f} ms")
