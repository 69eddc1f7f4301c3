"""Pujo's resumable uploads driven by a tus client nobody here wrote: tuspy, from PyPI.

Usage: tuspy_check.py PUJO_BINARY

Starts the binary on its embedded defaults (SQLite and the local blob folder in a
temporary data folder) on a free loopback port and checks, with tuspy doing the tus
side: an upload in chunks with sha1 checksums (the one tuspy sends), a restart of Pujo between two
chunks and tuspy resuming from its stored URL, a connection cut in the middle of a
chunk and the resume from what arrived, a chunk whose checksum is wrong (460, nothing
kept), termination, another person's upload (404), and expiry. Each photo that
arrives is fetched back and compared with the file sent. Prints one line per check;
exits non-zero at the first that fails.
"""

import base64
import hashlib
import io
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

import requests
from PIL import Image
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.storage.filestorage import FileStorage

BINARY = os.path.abspath(sys.argv[1])
PASSWORD = "tuspy-password-1"
CHUNK = 64 * 1024


def proof(base, purpose):
    """The proof of work a browser does before it makes an account (`X-Pujo-Proof`)."""
    challenge = requests.get(f"{base}/api/v1/proof?for={purpose}", timeout=10).json()
    salt, bits = challenge["salt"], challenge["bits"]

    def holds(number):
        digest = hashlib.sha256(f"{salt}:{number}".encode()).digest()
        return bits == 0 or int.from_bytes(digest, "big") >> (256 - bits) == 0

    number = 0
    while not holds(number):
        number += 1
    return f"{salt}:{number}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Pujo:
    """One `pujo serve` on a data folder, restartable on the same port."""

    def __init__(self, data, *flags):
        self.data, self.flags, self.port = data, flags, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(data, "server.log"), "ab")
        self.proc = None
        self.start()

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUJO_")}
        self.proc = subprocess.Popen(
            [BINARY, "serve", "--listen", f"127.0.0.1:{self.port}", "--admin-listen", "off",
             "--data-dir", self.data, "--log", "warn", "--access-log", "false", *self.flags],
            env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"tuspy: pujo exited with {self.proc.returncode}; see {self.data}/server.log")
            try:
                if requests.get(self.base + "/ready", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        sys.exit("tuspy: pujo was not ready within 60 s")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


class Person:
    def __init__(self, pujo, name):
        self.pujo = pujo
        self.http = requests.Session()
        self.http.headers["Origin"] = pujo.base
        got = self.http.post(pujo.base + "/api/v1/auth/register", json={
            "username": name, "email": f"{name}@example.org", "password": PASSWORD},
            headers={"X-Pujo-Proof": proof(pujo.base, "register")})
        check(got.status_code == 201, f"register {name}: {got.status_code} {got.text[:200]}")
        album = self.http.post(pujo.base + "/api/v1/albums", json={"title": f"{name}'s Ashtami"})
        check(album.status_code == 201, f"album: {album.status_code} {album.text[:200]}")
        self.album = album.json()["id"]

    def headers(self):
        """What tuspy sends besides its own headers: the session, and Origin as a browser does."""
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        return {"Cookie": cookie, "Origin": self.pujo.base}

    def tus(self):
        return tus_client.TusClient(self.pujo.base + "/api/v1/uploads", headers=self.headers())

    def uploader(self, photo, **kwargs):
        # From a file, as a phone's app would: tuspy's fingerprint reads (and closes) it.
        path = os.path.join(self.pujo.data, hashlib.sha256(photo).hexdigest() + ".jpg")
        with open(path, "wb") as f:
            f.write(photo)
        return self.tus().uploader(
            file_path=path, chunk_size=CHUNK, upload_checksum=True, retries=0,
            metadata={"album_id": str(self.album), "filename": "pratima.jpg", "caption": "Kumartuli"}, **kwargs)

    def arrived(self, photo_id, photo):
        """The photo exists, in this person's album, and its original is the file sent."""
        shown = self.http.get(f"{self.pujo.base}/api/v1/photos/{photo_id}")
        check(shown.status_code == 200, f"photo {photo_id}: {shown.status_code}")
        check(shown.json()["album_id"] == self.album, "the photo is in the album the metadata named")
        original = self.http.get(f"{self.pujo.base}/media/{photo_id}/original")
        check(original.status_code == 200 and original.content == photo, "the owner's original is the file sent")


def check(ok, what):
    if not ok:
        sys.exit(f"tuspy: FAILED: {what}")


def passed(what):
    print(f"tuspy: ok  {what}", flush=True)


def photo(seed, size=(900, 700)):
    """A JPEG of noise (it does not compress: a few hundred kB, several chunks)."""
    rng = random.Random(seed)
    img = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def head(person, url):
    return requests.head(url, headers={**person.headers(), "Tus-Resumable": "1.0.0"})


def main():
    data = tempfile.mkdtemp(prefix="pujo-tuspy-")
    pujo = Pujo(data)
    try:
        run(pujo, data)
    finally:
        pujo.stop()
    # Kept when a check fails (the exception skips this), for its server.log.
    shutil.rmtree(data, ignore_errors=True)
    expiry()
    print("tuspy: all checks passed")


def run(pujo, data):
    durga = Person(pujo, "durga")
    asura = Person(pujo, "mahishasura")

    # Chunks with checksums, Pujo restarted in between, tuspy resuming from its store.
    sent = photo(1)
    store = FileStorage(os.path.join(data, "tuspy-urls.json"))
    first = durga.uploader(sent, store_url=True, url_storage=store)
    first.set_url(first.create_url())
    first.offset = 0
    first.upload_chunk()
    first.upload_chunk()
    check(first.offset == 2 * CHUNK, f"two chunks acknowledged, offset {first.offset}")
    pujo.stop()
    pujo.start()
    resumed = durga.uploader(sent, store_url=True, url_storage=store)
    check(resumed.url == first.url, "tuspy found the upload's URL by the file's fingerprint")
    check(resumed.offset == 2 * CHUNK, f"after the restart HEAD says {resumed.offset}")
    resumed.upload()
    photo_id = resumed.request.response_headers.get("pujo-photo-id")
    check(photo_id is not None, "the last PATCH names the photo")
    durga.arrived(int(photo_id), sent)
    check(head(durga, first.url).headers.get("pujo-photo-id") == photo_id, "HEAD names the photo too")
    passed("chunks with sha1 checksums (tuspy's), a restart between two, resumed by fingerprint")

    # The connection dies in the middle of a chunk: what arrived is the offset to resume from.
    sent = photo(2)
    cut = durga.uploader(sent)
    cut.set_url(cut.create_url())
    path = urllib.parse.urlparse(cut.url).path
    half = len(sent) // 2
    headers = durga.headers()
    raw = socket.create_connection(("127.0.0.1", pujo.port))
    raw.sendall((f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1:{pujo.port}\r\nOrigin: {pujo.base}\r\n"
                 f"Cookie: {headers['Cookie']}\r\nTus-Resumable: 1.0.0\r\n"
                 f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
                 f"Content-Length: {len(sent)}\r\n\r\n").encode() + sent[:half])
    time.sleep(0.3)
    raw.close()
    deadline = time.monotonic() + 10
    while int(head(durga, cut.url).headers.get("upload-offset", -1)) != half and time.monotonic() < deadline:
        time.sleep(0.1)
    again = durga.uploader(sent, url=cut.url)
    check(again.offset == half, f"tuspy resumes at {again.offset}, the {half} bytes that arrived")
    again.upload()
    durga.arrived(int(again.request.response_headers["pujo-photo-id"]), sent)
    passed("a connection cut mid-chunk keeps what arrived; tuspy resumes from there")

    # A chunk whose checksum does not match is refused whole with 460.
    sent = photo(3)
    bad = durga.uploader(sent)
    bad.set_url(bad.create_url())
    bad.upload_chunk()
    wrong = base64.b64encode(hashlib.sha256(b"not these bytes").digest()).decode()
    refused = requests.patch(bad.url, data=sent[CHUNK:2 * CHUNK], headers={
        **durga.headers(), "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": str(CHUNK), "Upload-Checksum": f"sha256 {wrong}"})
    check(refused.status_code == 460, f"a wrong sha256 answers {refused.status_code}")
    check(head(durga, bad.url).headers["upload-offset"] == str(CHUNK), "nothing of the bad chunk was kept")
    passed("a chunk with a wrong sha256 is 460 and nothing of it is kept")

    # Another person can neither see nor add to it; its owner can end it.
    check(head(asura, bad.url).status_code == 404, "another person's HEAD is 404")
    theirs = asura.uploader(sent, url=None)
    theirs.url = bad.url
    theirs.offset = CHUNK
    try:
        theirs.upload_chunk()
        check(False, "another person's PATCH was taken")
    except TusUploadFailed as e:
        check(e.status_code == 404, f"another person's PATCH answers {e.status_code}")
    passed("another person's upload is 404 to HEAD and PATCH")
    ended = requests.delete(bad.url, headers={**durga.headers(), "Tus-Resumable": "1.0.0"})
    check(ended.status_code == 204, f"termination answers {ended.status_code}")
    check(head(durga, bad.url).status_code == 404, "a terminated upload is gone")
    check(not os.listdir(os.path.join(data, "resumable")), "no partial file is left")
    passed("termination removes the upload and its bytes")


def expiry():
    data = tempfile.mkdtemp(prefix="pujo-tuspy-expiry-")
    pujo = Pujo(data, "--upload-expiry", "2s")
    try:
        durga = Person(pujo, "durga")
        left = durga.uploader(photo(4))
        left.set_url(left.create_url())
        left.upload_chunk()
        time.sleep(2.5)
        check(head(durga, left.url).status_code == 404, "an expired upload is 404")
        try:
            late = durga.uploader(photo(4), url=left.url)
            check(False, f"tuspy resumed an expired upload at {late.offset}")
        except TusCommunicationError as e:
            check(e.status_code == 404, f"tuspy's HEAD of an expired upload answers {e.status_code}")
    finally:
        pujo.stop()
    shutil.rmtree(data, ignore_errors=True)
    passed("an upload past Upload-Expires is gone, and tuspy cannot resume it")


if __name__ == "__main__":
    main()
