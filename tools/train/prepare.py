#!/usr/bin/python3
"""prepare.py - catalog -> training arrays.

Reads styles.csv (rows that parse to exactly 10 fields, as fashionctl
loads them), keeps products whose image exists, runs the C preprocessing
(tools/train/prep, built by make) over every image and writes into WORK:
  items.json   [{id, gender, master, sub, type, colour, season, year, usage, name}]
  images.u8    N x 80 x 60 x 3 uint8, in items.json order
The 90/10 split is models/split-test.txt (held-out ids); it is created once,
from a fixed seed, and then read, never rewritten.
"""
import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ap = argparse.ArgumentParser()
ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "kaggle-fashion-small"))
ap.add_argument("--work", default=os.path.join(ROOT, "var", "train"))
ap.add_argument("--prep", default=os.path.join(ROOT, "tools", "train", "prep"))
ap.add_argument("--split", default=os.path.join(ROOT, "models", "split-test.txt"))
a = ap.parse_args()

os.makedirs(a.work, exist_ok=True)
imgdir = os.path.join(a.work, "images")
if not os.path.isdir(imgdir):
    print("extracting images ...", file=sys.stderr)
    with tarfile.open(os.path.join(a.data, "images.tar.gz")) as tf:
        tf.extractall(a.work)

items = []
with open(os.path.join(a.data, "styles.csv"), newline="", encoding="utf-8") as f:
    r = csv.reader(f)
    next(r)
    for row in r:
        if len(row) != 10 or not row[0].isdigit():
            continue
        pid = int(row[0])
        if not os.path.exists(os.path.join(imgdir, "%d.jpg" % pid)):
            continue
        items.append(dict(id=pid, gender=row[1], master=row[2], sub=row[3],
                          type=row[4], colour=row[5], season=row[6],
                          year=row[7], usage=row[8], name=row[9].strip()))
items.sort(key=lambda x: x["id"])

if not os.path.exists(a.split):
    ids = [x["id"] for x in items]
    random.Random(20261123).shuffle(ids)
    test = sorted(ids[: len(ids) // 10])
    with open(a.split, "w") as f:
        f.write("".join("%d\n" % i for i in test))
    print("wrote split: %d held-out ids" % len(test), file=sys.stderr)

with open(os.path.join(a.work, "ids.txt"), "w") as f:
    f.write("".join("%d\n" % x["id"] for x in items))
subprocess.run([a.prep, imgdir, os.path.join(a.work, "ids.txt"),
                os.path.join(a.work, "images.u8")], check=True)
with open(os.path.join(a.work, "items.json"), "w") as f:
    json.dump(items, f)
print("%d items" % len(items), file=sys.stderr)
