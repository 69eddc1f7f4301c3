"""Server cost of a photo sent through tus against the same photo in one multipart request.

Usage: tus_cost.py PUJO_BINARY [ROUNDS]

Twenty photos of noise (about 4 MB each, as a phone's) are uploaded to a fresh Pujo
(embedded defaults: SQLite, the local blob folder) once as multipart uploads and, to
another fresh Pujo, once through tus in 1 MiB chunks with sha256 checksums. Fresh
instances because blobs are content-addressed: a second upload of the same bytes would
cost less. The server's CPU time (user + system, from /proc) is read before and after
each batch; the two methods alternate for ROUNDS rounds (default 3), so that the
machine's drift falls on both. Prints the CPU seconds per photo of each method in each
round and the ratio tus / multipart.
"""

import base64
import hashlib
import os
import sys
import time


from pujo_process import Pujo, noise_photos

BINARY = os.path.abspath(sys.argv[1])
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
PHOTOS = 20
CHUNK = 1024 * 1024
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def multipart(pujo, photo, n):
    r = pujo.http.post(f"{pujo.base}/api/v1/albums/{pujo.album}/photos",
                       files={"file": (f"p{n}.jpg", photo, "image/jpeg")})
    assert r.status_code == 201, r.text


def tus(pujo, photo, n):
    meta = f"album_id {base64.b64encode(str(pujo.album).encode()).decode()}"
    head = {"Tus-Resumable": "1.0.0"}
    r = pujo.http.post(pujo.base + "/api/v1/uploads",
                       headers={**head, "Upload-Length": str(len(photo)), "Upload-Metadata": meta})
    assert r.status_code == 201, r.text
    url = pujo.base + r.headers["Location"]
    at = 0
    while at < len(photo):
        chunk = photo[at:at + CHUNK]
        digest = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
        r = pujo.http.patch(url, data=chunk, headers={
            **head, "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(at),
            "Upload-Checksum": f"sha256 {digest}"})
        assert r.status_code == 204, r.text
        at = int(r.headers["Upload-Offset"])
    assert r.headers.get("Pujo-Photo-Id"), "the last chunk names the photo"


def batch(method, files):
    pujo = Pujo(BINARY)
    try:
        before = cpu_seconds(pujo.proc.pid)
        started = time.monotonic()
        for n, photo in enumerate(files):
            method(pujo, photo, n)
        wall = time.monotonic() - started
        return (cpu_seconds(pujo.proc.pid) - before) / len(files), wall
    finally:
        pujo.stop()


def main():
    files = noise_photos(PHOTOS, 0)
    mean = sum(map(len, files)) / len(files)
    print(f"{len(files)} photos, {mean / 1e6:.2f} MB each on average; tus in {CHUNK // 1024} KiB chunks")
    totals = {"multipart": 0.0, "tus": 0.0}
    for r in range(ROUNDS):
        order = [("multipart", multipart), ("tus", tus)]
        if r % 2:
            order.reverse()
        line = []
        for name, method in order:
            cpu, wall = batch(method, files)
            totals[name] += cpu
            line.append(f"{name} {cpu * 1000:.0f} ms CPU/photo ({wall:.1f} s wall)")
        print(f"round {r + 1}: " + ", ".join(line))
    ratio = totals["tus"] / totals["multipart"]
    print(f"tus / multipart, server CPU per photo over {ROUNDS} rounds: {ratio:.3f}")


if __name__ == "__main__":
    main()
