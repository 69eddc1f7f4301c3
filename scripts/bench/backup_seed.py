"""Photos for scripts/bench/backup.sh: blobs in a data folder and their rows as SQL.

    backup_seed.py DATA_DIR FIRST COUNT | sqlite3 DATA_DIR/pujo.db

Writes, for photos FIRST..FIRST+COUNT-1, an original of about 450 KB (random bytes:
a backup copies bytes, it does not decode them) under blobs/uploads/<sha256> and six
derivatives of about 10 KB under blobs/thumbnails/<sha256>/, about 0.5 MB a photo;
prints the SQL that adds one person and one album (first call) and the photos' rows,
each named by its original's real hash, as Pujo writes them.
"""
import hashlib
import os
import random
import sys

data, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(first)
now = "(CAST(strftime('%s','now') AS INTEGER) * 1000)"
out = ["BEGIN;"]
if first == 1:
    out.append(f"INSERT INTO users (username, email, display_name, password_hash, created_at, updated_at) "
               f"VALUES ('bench', 'bench@pujo.example', 'Bench', 'x', {now}, {now});")
    out.append(f"INSERT INTO albums (owner_id, title, description, visibility, created_at, updated_at, search_text) "
               f"VALUES (1, 'Ashtami', '', 'public', {now}, {now}, 'ashtami');")
for n in range(first, first + count):
    original = rng.randbytes(400_000 + rng.randrange(100_000))
    sha = hashlib.sha256(original).hexdigest()
    os.makedirs(f"{data}/blobs/uploads", exist_ok=True)
    with open(f"{data}/blobs/uploads/{sha}", "wb") as f:
        f.write(original)
    os.makedirs(f"{data}/blobs/thumbnails/{sha}", exist_ok=True)
    for variant in ("thumb", "medium", "display"):
        for ext in ("webp", "jpg"):
            with open(f"{data}/blobs/thumbnails/{sha}/{variant}.{ext}", "wb") as f:
                f.write(rng.randbytes(8_000 + rng.randrange(4_000)))
    out.append(
        "INSERT INTO photos (owner_id, album_id, caption, width, height, exif, sha256, content_type, byte_size, "
        f"gps_privacy, created_at, updated_at, search_text) VALUES (1, 1, 'Photo {n}', 4000, 3000, '{{}}', "
        f"X'{sha}', 'image/jpeg', {len(original)}, 'hidden', {now}, {now}, 'photo {n}');"
    )
out.append("COMMIT;")
print("\n".join(out))
