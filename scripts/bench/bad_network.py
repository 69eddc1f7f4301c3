"""Twenty 4 MB photos from a phone on a pandal's network: tus against one multipart request.

Usage: bad_network.py PUJO_BINARY [RATE_KBIT]

The network is a relay between the phone and Pujo, on loopback, in this process:
RATE_KBIT (default 1000) kbit/s each way shared by all connections, 150 ms added each
way (300 ms round trip), and the link cut for 5 s every 30 s: every connection through
it is reset and new ones are refused until it is back. (This machine's kernel has no
netem qdisc, so the network cannot be made with tc; packet loss is not modelled,
only what it ends in, the cuts.) The relay counts the bytes the phone got through
the link towards Pujo.

The phone sends the photos one after another. Through tus: create, PATCH 1 MiB
chunks; after a failure wait a second, ask the offset (HEAD) and go on from it.
Through multipart: POST the whole file; after a failure wait a second and send it
all again. tus runs first; multipart gets the same time tus took, plus a quarter,
then stops. Prints, for each: photos that arrived (each fetched back and compared),
bytes through the link per byte of photo that arrived, and wall time.
"""

import asyncio
import base64
import os
import socket
import struct
import sys
import threading
import time

import requests

from pujo_process import Pujo, noise_photos

BINARY = os.path.abspath(sys.argv[1])
RATE = int(sys.argv[2]) * 1000 // 8 if len(sys.argv) > 2 else 1_000_000 // 8
LATENCY = 0.150
CUT_EVERY, CUT_FOR = 30.0, 5.0
PHOTOS = 20
CHUNK = 1024 * 1024


# ------------------------------------------------------------------ the link


class Bucket:
    """A token bucket of RATE bytes per second, shared by every connection one way."""

    def __init__(self, rate):
        self.rate, self.tokens, self.at = rate, 0.0, time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self, n):
        async with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.rate * 0.05, self.tokens + (now - self.at) * self.rate)
                self.at = now
                if self.tokens >= n:
                    self.tokens -= n
                    return
                await asyncio.sleep((n - self.tokens) / self.rate)


class Link:
    def __init__(self, target_port):
        self.target = target_port
        self.up, self.down = None, None
        self.cut = False
        self.conns = set()
        self.bytes_up = 0
        self.cuts = 0

    async def pump(self, reader, writer, bucket, upstream):
        """Moves bytes one way: through the bucket, then held LATENCY before delivery."""
        queue = asyncio.Queue()

        async def deliver():
            while True:
                due, data = await queue.get()
                if data is None:
                    writer.write_eof() if writer.can_write_eof() else None
                    return
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                writer.write(data)
                await writer.drain()

        sender = asyncio.create_task(deliver())
        try:
            while True:
                data = await reader.read(16 * 1024)
                if not data:
                    break
                for i in range(0, len(data), 1500):
                    piece = data[i:i + 1500]
                    await bucket.take(len(piece))
                    if upstream:
                        self.bytes_up += len(piece)
                    await queue.put((time.monotonic() + LATENCY, piece))
            await queue.put((0, None))
            await sender
        except (ConnectionError, asyncio.CancelledError):
            sender.cancel()

    async def handle(self, client_r, client_w):
        if self.cut:
            reset(client_w)
            return
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            reset(client_w)
            return
        conn = (client_w, server_w)
        self.conns.add(conn)
        tasks = [asyncio.create_task(self.pump(client_r, server_w, self.up, True)),
                 asyncio.create_task(self.pump(server_r, client_w, self.down, False))]
        try:
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            self.conns.discard(conn)
            for w in conn:
                w.close()

    async def cutter(self):
        while True:
            await asyncio.sleep(CUT_EVERY - CUT_FOR)
            self.cut = True
            self.cuts += 1
            for client_w, server_w in list(self.conns):
                reset(client_w)
                reset(server_w)
            await asyncio.sleep(CUT_FOR)
            self.cut = False

    async def serve(self, ready):
        self.up, self.down = Bucket(RATE), Bucket(RATE)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        server = await asyncio.start_server(self.handle, sock=sock)
        asyncio.create_task(self.cutter())
        ready.set()
        async with server:
            await server.serve_forever()


def reset(writer):
    """Drops a connection the way a lost link ends it for the phone: a reset."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


def start_link(target_port):
    link = Link(target_port)
    ready = threading.Event()
    threading.Thread(target=lambda: asyncio.run(link.serve(ready)), daemon=True).start()
    ready.wait()
    return link


# ------------------------------------------------------------------ Pujo and the phone


def phone(pujo, link):
    """A session that reaches Pujo through the link, with the person's cookie."""
    s = requests.Session()
    s.cookies.update(pujo.http.cookies)
    base = f"http://127.0.0.1:{link.port}"
    s.headers["Origin"] = base  # the relay's address is the site, as the phone sees it
    return s, base


def refused(r):
    """An answer that sending again cannot change."""
    if 400 <= r.status_code < 500 and r.status_code not in (408, 409, 423, 429):
        raise SystemExit(f"Pujo refused the upload: {r.status_code} {r.text[:300]}")


TIMEOUT = (5, 60)


def send_tus(pujo, link, photo):
    s, base = phone(pujo, link)
    head = {"Tus-Resumable": "1.0.0"}
    meta = f"album_id {base64.b64encode(str(pujo.album).encode()).decode()}"
    while True:
        try:
            r = s.post(base + "/api/v1/uploads", timeout=TIMEOUT,
                       headers={**head, "Upload-Length": str(len(photo)), "Upload-Metadata": meta})
            if r.status_code == 201:
                break
            refused(r)
        except requests.RequestException:
            pass
        time.sleep(1)
    url = base + r.headers["Location"]
    at = 0
    while True:
        try:
            r = s.patch(url, data=photo[at:at + CHUNK], timeout=TIMEOUT, headers={
                **head, "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(at)})
            if r.status_code == 204:
                at = int(r.headers["Upload-Offset"])
                if r.headers.get("Pujo-Photo-Id"):
                    return int(r.headers["Pujo-Photo-Id"])
                continue
            refused(r)
        except requests.RequestException:
            pass
        time.sleep(1)
        while True:
            try:
                r = s.head(url, headers=head, timeout=TIMEOUT)
                if r.headers.get("Pujo-Photo-Id"):
                    return int(r.headers["Pujo-Photo-Id"])
                at = int(r.headers["Upload-Offset"])
                break
            except (requests.RequestException, KeyError, ValueError):
                time.sleep(1)


def send_multipart(pujo, link, photo, n, deadline):
    s, base = phone(pujo, link)
    while time.monotonic() < deadline:
        try:
            r = s.post(f"{base}/api/v1/albums/{pujo.album}/photos", timeout=TIMEOUT,
                       files={"file": (f"pandal-{n}.jpg", photo, "image/jpeg")})
            if r.status_code == 201:
                return r.json()["items"][0]["id"]
            refused(r)
        except requests.RequestException:
            pass
        time.sleep(1)
    return None


def run(name, files, send):
    # The phone is one client address opening many connections.
    pujo = Pujo(BINARY, "--connection-rate", "1000", "--connection-burst", "1000")
    link = start_link(pujo.port)
    started = time.monotonic()
    try:
        ids = [send(pujo, link, photo, n) for n, photo in enumerate(files)]
        wall = time.monotonic() - started
        arrived = [(i, p) for i, p in zip(ids, files) if i is not None]
        ok = sum(1 for i, p in arrived if pujo.arrived(i, p))
        delivered = sum(len(p) for _, p in arrived)
        ratio = link.bytes_up / delivered if delivered else float("inf")
        print(f"{name}: {ok} of {len(files)} photos arrived; {link.bytes_up / 1e6:.1f} MB through the link, "
              f"{ratio:.3f} bytes per byte of photo that arrived; {wall:.0f} s; {link.cuts} cuts", flush=True)
        return wall
    finally:
        pujo.stop()


def main():
    files = noise_photos(PHOTOS, 100)
    mean = sum(map(len, files)) / len(files)
    print(f"{len(files)} photos, {mean / 1e6:.2f} MB each on average; link {RATE * 8 // 1000} kbit/s each way, "
          f"{2 * LATENCY * 1000:.0f} ms round trip, cut for {CUT_FOR:.0f} s every {CUT_EVERY:.0f} s", flush=True)
    took = run("tus", files, lambda pujo, link, photo, n: send_tus(pujo, link, photo))
    budget = time.monotonic() + took * 1.25
    run("multipart", files, lambda pujo, link, photo, n: send_multipart(pujo, link, photo, n, budget))


if __name__ == "__main__":
    main()
