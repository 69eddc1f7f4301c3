"""A `pujo serve` of a benchmark's own, on embedded defaults in a temp folder, with
one person and one album: what the Python benchmarks in this folder share."""

import io
import os
import random
import signal
import socket
import subprocess
import tempfile
import time

import requests
from PIL import Image


class Pujo:
    def __init__(self, binary, *flags):
        self.data = tempfile.mkdtemp(prefix="pujo-bench-")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUJO_")}
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--admin-listen", "off",
             "--data-dir", self.data, "--log", "warn", "--access-log", "false",
             # Its account is made by script: no browser's proof of work.
             "--register-proof-bits", "0", *flags],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                if requests.get(self.base + "/ready", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.05)
        self.http = requests.Session()
        self.http.headers["Origin"] = self.base
        r = self.http.post(self.base + "/api/v1/auth/register", json={
            "username": "bench", "email": "bench@example.org", "password": "bench-password-1"})
        assert r.status_code == 201, r.text
        self.album = self.http.post(self.base + "/api/v1/albums", json={"title": "Nabami"}).json()["id"]

    def arrived(self, photo_id, photo):
        """Whether the owner's original of `photo_id` is `photo`, byte for byte."""
        got = self.http.get(f"{self.base}/media/{photo_id}/original")
        return got.status_code == 200 and got.content == photo

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        subprocess.run(["rm", "-rf", self.data], check=False)


def noise_photos(count, first_seed=0, size=(2250, 1700), quality=93):
    """JPEGs of noise, which do not compress: about 4 MB each at the default size, as
    a phone's photo."""
    out = []
    for seed in range(first_seed, first_seed + count):
        rng = random.Random(seed)
        img = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=quality)
        out.append(buf.getvalue())
    return out
