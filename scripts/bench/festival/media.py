"""Images for scripts/bench/festival.sh (Pillow), made once and kept in a cache folder.

    media.py CACHE_DIR

CACHE_DIR/phone/*.jpg: six phone-like photos, 4000x3000 JPEGs of 3-5 MB (a smooth scene
with sensor-like noise, so they compress as a phone's do), which the uploaders send.
CACHE_DIR/derived/<n>/{thumb,medium,display}.{webp,jpg}: eight sets of derivatives made
the way Pujo makes them (400, 800 and 1600 px; WebP q80 and JPEG q82), which
festival.sh links under the hot set's keys in the S3 bucket.
"""
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFilter

cache = sys.argv[1]


def scene(seed, size=(4000, 3000)):
    rng = random.Random(seed)
    small = Image.new("RGB", (size[0] // 8, size[1] // 8))
    draw = ImageDraw.Draw(small)
    w, h = small.size
    for y in range(h):  # an evening sky
        t = y / h
        draw.line([(0, y), (w, y)], fill=(int(40 + 120 * t), int(20 + 60 * t), int(60 + 40 * (1 - t))))
    for _ in range(120):  # lights, people, the pratima's colours
        x, y, r = rng.randrange(w), rng.randrange(h), rng.randrange(3, 40)
        colour = tuple(rng.randrange(40, 255) for _ in range(3))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    img = small.resize(size, Image.BICUBIC).filter(ImageFilter.GaussianBlur(2))
    noise = Image.effect_noise(size, 28 + seed % 5).convert("RGB")
    return Image.blend(img, noise, 0.18)


os.makedirs(f"{cache}/phone", exist_ok=True)
for n in range(6):
    path = f"{cache}/phone/IMG_{n:04d}.jpg"
    if os.path.exists(path):
        continue
    img = scene(n)
    quality = 93
    while True:
        img.save(path + ".tmp", "JPEG", quality=quality, subsampling=0)
        size = os.path.getsize(path + ".tmp")
        if size < 3_000_000 and quality < 99:
            quality += 2
        elif size > 5_000_000 and quality > 60:
            quality -= 6
        else:
            break
    os.replace(path + ".tmp", path)
    print(f"{path}: {size / 1e6:.1f} MB (q{quality})")

for n in range(8):
    folder = f"{cache}/derived/{n}"
    if os.path.exists(f"{folder}/display.jpg"):
        continue
    os.makedirs(folder, exist_ok=True)
    img = scene(100 + n)
    for variant, edge in (("thumb", 400), ("medium", 800), ("display", 1600)):
        copy = img.copy()
        copy.thumbnail((edge, edge), Image.LANCZOS)
        copy.save(f"{folder}/{variant}.webp", "WEBP", quality=80)
        copy.save(f"{folder}/{variant}.jpg", "JPEG", quality=82)
    print(f"{folder}: derivatives")
