"""fclip.py - the dual encoder, its tokenizer and its file format.

Shared by prepare.py, train.py, export.py and evaluate.py.  The C side
(src/clipd/tokenize.c, src/clipd/model.c) implements the same tokenizer and
forward pass; tests compare the two on models/golden/.
"""
import struct
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

EMBED_DIM = 512
IMG_W, IMG_H = 60, 80
N_BUCKETS = 1 << 15       # hashed word / n-gram features
TOK_DIM = 96              # width of a feature vector
MAX_WORDS = 64            # words of a text that count
MAX_WORD = 64             # bytes of a word that count
MAX_TEXT = 2048           # bytes; longer texts are refused by the service
CONV = [(3, 32, 2), (32, 64, 2), (64, 128, 2), (128, 128, 1), (128, 256, 2)]


# ---------------------------------------------------------------- tokenizer

def _fnv1a(b):
    h = 0x811C9DC5
    for c in b:
        h ^= c
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def _stem(w):
    """Plural to singular, crude and symmetric: dresses/dress, shoes/shoe."""
    if len(w) > 3 and w.endswith(b"s") and not w.endswith(b"ss"):
        for suf in (b"sses", b"shes", b"ches", b"xes"):
            if w.endswith(suf):
                return w[:-2]
        return w[:-1]
    return w


def words(text):
    """Lower-case ASCII; words are runs of [a-z0-9] or bytes >= 0x80,
    cut at MAX_WORD bytes; the first MAX_WORDS words count."""
    b = text.encode("utf-8") if isinstance(text, str) else text
    out, cur = [], bytearray()
    for c in b:
        if 0x41 <= c <= 0x5A:
            c += 32
        if (0x61 <= c <= 0x7A) or (0x30 <= c <= 0x39) or c >= 0x80:
            if len(cur) < MAX_WORD:
                cur.append(c)
        elif cur:
            out.append(bytes(cur))
            cur = bytearray()
    if cur:
        out.append(bytes(cur))
    return out[:MAX_WORDS]


def features(text):
    """Bucket ids: each word (stemmed), its character trigrams, and each
    adjacent pair glued together (so "t shirt" meets "tshirt")."""
    ws = words(text)
    f = []
    for i, w in enumerate(ws):
        f.append(_fnv1a(b"w:" + _stem(w)) % N_BUCKETS)
        g = b"<" + w + b">"
        for j in range(len(g) - 2):
            f.append(_fnv1a(b"g:" + g[j:j + 3]) % N_BUCKETS)
        if i + 1 < len(ws):
            f.append(_fnv1a(b"w:" + _stem(w + ws[i + 1])) % N_BUCKETS)
    return f


# ------------------------------------------------------------------- model

class ImageTower(nn.Module):
    def __init__(self):
        super().__init__()
        layers = []
        for cin, cout, stride in CONV:
            layers += [nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                       nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*layers)
        self.proj = nn.Linear(CONV[-1][1], EMBED_DIM)
        self.register_buffer("mean", torch.zeros(3))
        self.register_buffer("std", torch.ones(3))

    def forward(self, u8):
        """u8: N x H x W x 3 uint8 (the C preprocessing output)."""
        x = u8.permute(0, 3, 1, 2).float() / 255.0
        x = (x - self.mean.view(1, 3, 1, 1)) / self.std.view(1, 3, 1, 1)
        x = self.body(x).mean(dim=(2, 3))
        return F.normalize(self.proj(x), dim=1)


class TextTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.bag = nn.EmbeddingBag(N_BUCKETS, TOK_DIM, mode="mean")
        self.fc1 = nn.Linear(TOK_DIM, EMBED_DIM)
        self.fc2 = nn.Linear(EMBED_DIM, EMBED_DIM)

    def forward(self, ids, offsets):
        x = self.bag(ids, offsets)
        x = self.fc2(F.relu(self.fc1(x)))
        return F.normalize(x, dim=1)


class DualEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.image = ImageTower()
        self.text = TextTower()
        self.logit_scale = nn.Parameter(torch.tensor(np.log(1 / 0.07), dtype=torch.float32))


def batch_features(texts):
    ids, offsets = [], []
    for t in texts:
        offsets.append(len(ids))
        ids.extend(features(t))
    return torch.tensor(ids, dtype=torch.long), torch.tensor(offsets, dtype=torch.long)


def embed_texts(model, texts, bs=1024):
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), bs):
            out.append(model.text(*batch_features(texts[i:i + bs])))
    return torch.cat(out)


def embed_images(model, u8, bs=512):
    out = []
    with torch.no_grad():
        for i in range(0, len(u8), bs):
            out.append(model.image(torch.from_numpy(np.ascontiguousarray(u8[i:i + bs]))))
    return torch.cat(out)


# ------------------------------------------------------------- file format
#
# models/fashion-clip.bin, all little-endian:
#   header, 64 bytes: char magic[8] = "FCLIPMDL"; u32 version = 1;
#     u32 embed_dim, img_w, img_h, n_buckets, tok_dim, max_words, ntensors,
#     table_offset; u32 reserved[5] = 0
#   tensor table at table_offset, ntensors entries of 64 bytes:
#     char name[32] (NUL padded); u32 ndim; u32 dims[4]; u32 attr (stride of
#     a convolution, else 0); u64 offset of the float32 data from the start
#     of the file (64-byte aligned; size = product of dims * 4)
#   tensor data
#   u32 CRC-32 (zlib polynomial) of every byte before it: the last 4 bytes.
# Layouts are the ones the C forward pass reads (src/clipd/model.c):
# convolutions H W I O with batch norm folded in, linear layers I O.

MAGIC = b"FCLIPMDL"
VERSION = 1


def fold_bn(conv, bn):
    s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    w = conv.weight * s.view(-1, 1, 1, 1)
    b = bn.bias - bn.running_mean * s
    return w, b


def export_tensors(model):
    """Tensors in the layout the C forward pass reads (see model.c)."""
    model.eval()
    t = []
    with torch.no_grad():
        t.append(("image.mean", model.image.mean))
        t.append(("image.std", model.image.std))
        mods = list(model.image.body)
        for i in range(len(CONV)):
            w, b = fold_bn(mods[3 * i], mods[3 * i + 1])
            # OIHW -> H W I O: the innermost loop runs over output channels
            t.append(("image.conv%d.w" % i, w.permute(2, 3, 1, 0)))
            t.append(("image.conv%d.b" % i, b))
        t.append(("image.proj.w", model.image.proj.weight.t()))
        t.append(("image.proj.b", model.image.proj.bias))
        t.append(("text.bag", model.text.bag.weight))
        t.append(("text.fc1.w", model.text.fc1.weight.t()))
        t.append(("text.fc1.b", model.text.fc1.bias))
        t.append(("text.fc2.w", model.text.fc2.weight.t()))
        t.append(("text.fc2.b", model.text.fc2.bias))
    return [(n, x.detach().contiguous().float().numpy()) for n, x in t]


def write_model(path, model):
    tensors = export_tensors(model)
    table_off = 64
    data_off = table_off + 64 * len(tensors)
    data_off = (data_off + 63) & ~63
    table, blobs, off = b"", b"", data_off
    for name, a in tensors:
        dims = list(a.shape) + [0] * (4 - a.ndim)
        assert a.ndim <= 4 and len(name) < 32
        attr = 0
        if name.startswith("image.conv") and name.endswith(".w"):
            attr = CONV[int(name[len("image.conv"):-2])][2]
        table += struct.pack("<32sI4IIQ", name.encode(), a.ndim, *dims, attr, off)
        raw = a.astype("<f4").tobytes()
        pad = (-len(raw)) % 64
        blobs += raw + b"\0" * pad
        off += len(raw) + pad
    hdr = struct.pack("<8s9I5I", MAGIC, VERSION, EMBED_DIM, IMG_W, IMG_H,
                      N_BUCKETS, TOK_DIM, MAX_WORDS, len(tensors), table_off,
                      0, 0, 0, 0, 0)
    assert len(hdr) == 64
    body = hdr + table + b"\0" * (data_off - table_off - len(table)) + blobs
    with open(path, "wb") as f:
        f.write(body)
        f.write(struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF))
