"""Waits for a freshly started Pujo, then gives it something to serve.

Usage: seed.py BASE_URL PUJO_BINARY DATA_DIR SERVER_PID

Registers an admin and an ordinary person, creates pandals and albums of every
visibility, adds photos with a comment and a like, and prints shell assignments for scripts/schemathesis.sh:
SESSION (the admin's session, for every authenticated request) and
LOGOUT_SESSION (a second session of the same person, for the logout operation
alone, so logging out does not end the session the other operations use).
Standard library only; plain HTTP to loopback.
"""

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.cookies import SimpleCookie

BASE, BINARY, DATA_DIR, SERVER_PID = sys.argv[1:5]
PASSWORD = "schemathesis-password-1"


def call(method, path, body=None, session=None, expect=(200,)):
    headers = {"Origin": BASE}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if session:
        headers["Cookie"] = f"pujo_session={session}"
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, raw, got = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as e:
        status, raw, got = e.code, e.read(), e.headers
    if status not in expect:
        sys.exit(f"seed: {method} {path} answered {status}: {raw[:500]!r}")
    cookie = SimpleCookie()
    for value in got.get_all("Set-Cookie") or []:
        cookie.load(value)
    token = cookie["pujo_session"].value if "pujo_session" in cookie else None
    return (json.loads(raw) if raw else None), token


def wait_ready(deadline=60.0):
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        try:
            os.kill(int(SERVER_PID), 0)
        except ProcessLookupError:
            sys.exit("seed: the server exited before it was ready")
        try:
            with urllib.request.urlopen(BASE + "/ready", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    sys.exit(f"seed: {BASE}/ready did not answer 200 within {deadline:.0f} s")


wait_ready()
_, logout_session = call("POST", "/api/v1/auth/register", expect=(201,), body={
    "username": "durga", "email": "durga@example.org", "password": PASSWORD, "display_name": "Durga"})
# Pandals are kept by admins, and the first admin is made from the shell.
subprocess.run([BINARY, "admin", "--data-dir", DATA_DIR, "--log", "warn", "grant-admin", "durga"],
               check=True, stdout=subprocess.DEVNULL)
_, session = call("POST", "/api/v1/auth/login", body={"login": "durga", "password": PASSWORD})
_, other = call("POST", "/api/v1/auth/register", expect=(201,), body={
    "username": "mahishasura", "email": "asura@example.org", "password": PASSWORD})

pandal, _ = call("POST", "/api/v1/pandals", session=session, expect=(201,), body={
    "name": "Bagbazar Sarbojanin", "para": "Bagbazar", "city": "Kolkata", "year": 2026, "lat": 22.6, "lon": 88.36})
call("POST", "/api/v1/pandals", session=session, expect=(201,), body={
    "name": "Ekdalia Evergreen", "city": "Kolkata", "year": 2025})
albums = {}
for visibility in ("public", "unlisted", "private"):
    albums[visibility], _ = call("POST", "/api/v1/albums", session=session, expect=(201,), body={
        "title": f"Bagbazar {visibility}", "description": "Sindoor khela\non Dashami", "visibility": visibility,
        "pandal_id": pandal["id"]})
others, _ = call("POST", "/api/v1/albums", session=other, expect=(201,), body={"title": "Someone else's"})
hidden, _ = call("POST", "/api/v1/albums", session=other, expect=(201,), body={"title": "Hidden", "visibility": "private"})


def add_photo(db, owner, album, caption, gps_privacy, allow_original, exif, thumbhash):
    """A photo row as the upload will write it; the API cannot upload yet."""
    now = int(time.time() * 1000)
    cur = db.execute(
        "INSERT INTO photos (owner_id, album_id, caption, width, height, taken_at, exif, sha256, content_type, "
        "byte_size, thumbhash, gps_privacy, lat, lon, allow_original, created_at, updated_at, search_text) "
        "VALUES (?, ?, ?, 4000, 3000, ?, ?, ?, 'image/jpeg', 123456, ?, ?, 22.604417, 88.369167, ?, ?, ?, ?)",
        (owner, album, caption, now - 86_400_000, json.dumps(exif), hashlib.sha256(caption.encode()).digest(),
         thumbhash, gps_privacy, allow_original, now, now, caption.lower()))
    return cur.lastrowid


# Until photos can be uploaded through the API, they are written straight into the
# database, so the photo, comment and like operations have something to work on.
with sqlite3.connect(os.path.join(DATA_DIR, "pujo.db"), timeout=10) as db:
    camera = {"camera": "Pentax K-1", "iso": 800, "gps": {"lat": 22.6, "lon": 88.37}, "serial": "1234"}
    mine = add_photo(db, 1, albums["public"]["id"], "sindoor khela", "coarse", 0, camera, bytes(range(24)))
    add_photo(db, 1, albums["private"]["id"], "dhunuchi naach", "hidden", 0, {}, None)
    theirs = add_photo(db, 2, others["id"], "pratima", "exact", 1, {"lens": "50mm", "aperture": "f/1.8"},
                       b"\x01\x02\x03")
    add_photo(db, 2, hidden["id"], "hidden", "exact", 0, {}, None)
    db.execute("UPDATE albums SET cover_photo_id = ? WHERE id = ?", (mine, albums["public"]["id"]))
call("POST", f"/api/v1/photos/{theirs}/comments", session=session, expect=(201,), body={"body": "Darun!"})
call("POST", f"/api/v1/photos/{mine}/comments", session=other, expect=(201,), body={"body": "Shubho Bijoya"})
call("PUT", f"/api/v1/photos/{mine}/like", session=other)

print(f"SESSION={session}")
print(f"LOGOUT_SESSION={logout_session}")
