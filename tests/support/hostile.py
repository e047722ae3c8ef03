"""
hostile - the hostile corpus of test_hostile.py, generated at test time
(Python's struct/zlib, Pillow, the ffmpeg CLI for the video clips): no
file is checked in and nothing is fetched.

Each input is a Case: the name it gets in the media root (the extension
lies: an MVG saved as .jpg, an HLS playlist saved as .mp4), make(ctx) ->
its bytes, the query it is asked with, the statuses that are a correct
answer, and what it is. The names are known at import (test ids); the
bytes are made once per run by the test's fixture, with a Ctx holding the
secret's path and the marker paths the payloads aim at.

    bomb_cases()      decompression bombs of every image format
    dense_cases()     a few kB declaring a size just within the limits
    tragick_cases()   ImageTragick-style payloads and polyglots
    tragick_names(m)  file names that mean something to a coder or a shell
    video_cases()     playlists, concat/subfile URLs, dref aliases, SPS bombs
    good_images(), good_videos(dir), mutant(data, seed, i)
                      the valid files and their truncations and bit flips
"""

import io
import os
import random
import struct
import subprocess
import zlib

from PIL import Image, ImageDraw

# ------------------------------------------------------------------ PNG


def png_chunk(typ, data):
    return struct.pack(">I", len(data)) + typ + data + \
        struct.pack(">I", zlib.crc32(typ + data) & 0xffffffff)


def png(w, h, idat, bit_depth=8, colour=0, extra=()):
    """A PNG of the given header and raw IDAT bytes (not checked against
    the header: that is the point), with extra chunks before IDAT."""
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, colour, 0, 0, 0)
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    for typ, data in extra:
        out += png_chunk(typ, data)
    # IDAT split in 64 KiB chunks, as encoders do
    for i in range(0, max(len(idat), 1), 1 << 16):
        out += png_chunk(b"IDAT", idat[i:i + (1 << 16)])
    return out + png_chunk(b"IEND", b"")


def zeros_zlib(n_bytes):
    """A zlib stream inflating to n_bytes zero bytes (rounded up to 16 MiB),
    built from one compressed 16 MiB block repeated (deflate
    back-references reach across blocks): gigabytes cost a few ms to make
    and about 1 kB per MB inflated."""
    unit = 16 << 20
    zero = bytes(unit)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(zero) + c.flush(zlib.Z_FULL_FLUSH)
    second = c.compress(zero) + c.flush(zlib.Z_FULL_FLUSH)
    third = c.compress(zero) + c.flush(zlib.Z_FULL_FLUSH)
    assert second == third, "deflate of zeros is not periodic"
    n_units = max(1, -(-n_bytes // unit))
    body = first + second * (n_units - 1) + c.flush(zlib.Z_FINISH)
    total = n_units * unit
    # adler32 of `total` zeros: a stays 1, b grows by one per byte
    adler = ((total % 65521) << 16) | 1
    return b"\x78\xda" + body + struct.pack(">I", adler)


# ------------------------------------------------------------------ GIF

def _gif_blocks(data):
    """(header+LSD+GCT, [image block bytes]) of a GIF Pillow wrote."""
    assert data[:6] in (b"GIF87a", b"GIF89a")
    flags = data[10]
    pos = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    head = data[:pos]
    images = []
    while pos < len(data) and data[pos] != 0x3B:
        start = pos
        if data[pos] == 0x21:                       # extension
            pos += 2
            while data[pos]:
                pos += data[pos] + 1
            pos += 1
            continue
        assert data[pos] == 0x2C, data[pos]
        lflags = data[pos + 9]
        pos += 10
        if lflags & 0x80:
            pos += 3 * (2 << (lflags & 7))
        pos += 1                                    # LZW minimum code size
        while data[pos]:
            pos += data[pos] + 1
        pos += 1
        images.append(data[start:pos])
    return head, images


def _gif_lzw(w, h):
    """The LZW data (minimum code size byte and sub-blocks) of a w x h frame
    of palette index 0, as Pillow encodes it."""
    b = io.BytesIO()
    Image.new("P", (w, h), 0).save(b, "GIF")
    _, ims = _gif_blocks(b.getvalue())
    blk = ims[0]
    flags = blk[9]
    pos = 10 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    return blk[pos:]


def gif_frames(w, h, n, screen=None, colours=((230, 30, 30), (30, 40, 220))):
    """An animated GIF of n frames of w x h solid colour (alternating
    through local colour tables, so no decoder could merge them), the LZW
    data encoded once: n = 5000 costs no more than n = 2. screen = (W, H)
    overrides the logical screen size."""
    lzw = _gif_lzw(w, h)
    sw, sh = screen or (w, h)
    out = bytearray(b"GIF89a" + struct.pack("<HH", sw, sh) + bytes([0x00, 0, 0]))
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"   # loop forever
    gce = b"\x21\xf9\x04\x04\x02\x00\x00\x00"                # 20 ms, keep
    frames = [b"\x2c" + struct.pack("<HHHH", 0, 0, w, h) + b"\x80" + bytes(c) + b"\0\0\0" + lzw
              for c in colours]
    for i in range(n):
        out += gce + frames[i % len(frames)]
    out += b"\x3b"
    return bytes(out)


def gif_one(w, h, screen):
    """One w x h frame on a screen x screen logical screen."""
    return gif_frames(w, h, 1, screen=screen)


def gif_descriptor_bomb(w, h):
    """A 1x1 screen with one frame whose descriptor says w x h, and the
    LZW data of a 1x1 frame (an end code right away)."""
    out = bytearray(b"GIF89a" + struct.pack("<HH", 1, 1) + bytes([0x80, 0, 0]))
    out += b"\xff\x00\x00\x00\x00\x00"              # global table, 2 colours
    out += b"\x2c" + struct.pack("<HHHH", 0, 0, w, h) + b"\x00"
    out += b"\x02\x02\x4c\x01\x00"                  # clear, 0, end
    out += b"\x3b"
    return bytes(out)


# ------------------------------------------------------------------ JPEG

def jpeg_bytes(im, **kw):
    b = io.BytesIO()
    im.save(b, "JPEG", **kw)
    return b.getvalue()


def jpeg_segments(data):
    """[(marker, offset, length incl. marker)] up to the first SOS."""
    out = []
    pos = 2
    while pos < len(data):
        assert data[pos] == 0xFF, pos
        m = data[pos + 1]
        ln = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        out.append((m, pos, ln + 2))
        if m == 0xDA:
            break
        pos += ln + 2
    return out


def jpeg_with_size(data, w, h):
    """data with its SOF's width and height replaced (the scan data kept)."""
    b = bytearray(data)
    for m, off, _ in jpeg_segments(data):
        if m in (0xC0, 0xC1, 0xC2):
            struct.pack_into(">HH", b, off + 5, h, w)
            return bytes(b)
    raise ValueError("no SOF")


def _seg(marker, payload):
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_scan_bomb(n_scans, side=4096):
    """A progressive greyscale JPEG of side x side made of n_scans scans of
    a dozen bytes each (the "scan bomb"): the picture is flat grey, so every
    AC scan is end-of-band runs of 16384+ blocks, yet libjpeg walks every
    block of the image once per scan. The first 1 + 63 * 14 scans follow a
    valid progression (one coefficient at a time, Al 13 down to 0); any
    more repeat the last one (libjpeg only warns)."""
    blocks = (side // 8) ** 2
    dqt = _seg(0xDB, b"\x00" + bytes([1] * 64))
    sof = _seg(0xC2, struct.pack(">BHHB", 8, side, side, 1) + b"\x01\x11\x00")
    # DC table 0: one 1-bit code for "difference 0"; AC table 0: one 1-bit
    # code for EOB14 (a run of 2^14 + 14 more bits of blocks)
    dht = _seg(0xC4, b"\x00" + bytes([1] + [0] * 15) + b"\x00"
               + b"\x10" + bytes([1] + [0] * 15) + b"\xe0")
    # DC scan: one 0 bit per block (no 0xFF byte, so no stuffing), 1-padded
    dc_bits = blocks
    dc = b"\x00" * (dc_bits // 8) + (b"" if dc_bits % 8 == 0 else
                                    bytes([0xFF >> (dc_bits % 8)]))
    scans = [_seg(0xDA, b"\x01\x01\x00\x00\x00\x00") + dc]

    # AC: the blocks as k end-of-band runs, each of 16384..32767 blocks
    # (EOB14 and its 14 extra bits), 1-padded, 0xFF stuffed
    def eob_runs(n):
        assert n >= 16384, "side must be at least 1024"
        k = -(-n // 32767)
        runs = [n // k + (1 if i < n % k else 0) for i in range(k)]
        bits = "".join("0" + format(run - 16384, "014b") for run in runs)
        bits += "1" * (-len(bits) % 8)
        out = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
        return out.replace(b"\xff", b"\xff\x00")
    ac = eob_runs(blocks)

    def ac_scan(k, ah, al):
        return _seg(0xDA, bytes([1, 1, 0x00, k, k, (ah << 4) | al])) + ac

    order = [(k, 0, 13) for k in range(1, 64)]
    for al in range(12, -1, -1):
        order += [(k, al + 1, al) for k in range(1, 64)]
    while len(scans) < n_scans:
        scans.append(ac_scan(*order[min(len(scans) - 1, len(order) - 1)]))
    return b"\xff\xd8" + dqt + sof + dht + b"".join(scans) + b"\xff\xd9"


# ------------------------------------------------------------------ WebP

def webp_lossless(im):
    b = io.BytesIO()
    im.save(b, "WEBP", lossless=True)
    return b.getvalue()


def webp_lossy(im):
    b = io.BytesIO()
    im.save(b, "WEBP", quality=80)
    return b.getvalue()


def riff_webp(chunks):
    body = b"WEBP"
    for typ, data in chunks:
        body += typ + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_chunks(data):
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    out = []
    pos = 12
    while pos + 8 <= len(data):
        typ = data[pos:pos + 4]
        n = struct.unpack("<I", data[pos + 4:pos + 8])[0]
        out.append((typ, data[pos + 8:pos + 8 + n]))
        pos += 8 + n + (n & 1)
    return out


def webp_vp8l_size(data, w, h):
    """A lossless WebP whose VP8L header says w x h (14 bits each)."""
    chunks = webp_chunks(data)
    typ, bits = chunks[0]
    assert typ == b"VP8L" and bits[0] == 0x2F
    v = struct.unpack("<I", bits[1:5])[0]
    v = (v & ~0x0FFFFFFF) | ((w - 1) & 0x3FFF) | (((h - 1) & 0x3FFF) << 14)
    bits = bits[:1] + struct.pack("<I", v) + bits[5:]
    return riff_webp([(b"VP8L", bits)] + chunks[1:])


def webp_vp8_size(data, w, h):
    """A lossy WebP whose VP8 key frame header says w x h (14 bits each)."""
    chunks = webp_chunks(data)
    typ, bits = chunks[0]
    assert typ == b"VP8 " and bits[3:6] == b"\x9d\x01\x2a"
    bits = bits[:6] + struct.pack("<HH", w & 0x3FFF, h & 0x3FFF) + bits[10:]
    return riff_webp([(b"VP8 ", bits)] + chunks[1:])


def webp_vp8x_canvas(data, w, h, anim=False):
    """The image of data inside a VP8X container whose canvas is w x h
    (24 bits each, up to 16M x 16M); with anim, as the one frame of an
    animation on that canvas."""
    chunks = webp_chunks(data)
    flags = 0x02 if anim else 0
    vp8x = bytes([flags, 0, 0, 0]) + (w - 1).to_bytes(3, "little") + \
        (h - 1).to_bytes(3, "little")
    if not anim:
        return riff_webp([(b"VP8X", vp8x)] + chunks)
    anim_chunk = b"\0\0\0\0" + struct.pack("<H", 0)
    iw, ih = Image.open(io.BytesIO(data)).size
    frame_hdr = (0).to_bytes(3, "little") * 2 + (iw - 1).to_bytes(3, "little") + \
        (ih - 1).to_bytes(3, "little") + (100).to_bytes(3, "little") + b"\0"
    sub = b""
    for typ, d in chunks:
        sub += typ + struct.pack("<I", len(d)) + d + (b"\0" if len(d) & 1 else b"")
    return riff_webp([(b"VP8X", vp8x), (b"ANIM", anim_chunk), (b"ANMF", frame_hdr + sub)])


# ------------------------------------------------------------------ TIFF

def tiff(entries_list, data=b""):
    """A little-endian TIFF of one or more IFDs.

    entries_list: a list of IFDs, each a list of (tag, type, count, value)
    where value is an int that fits the 4-byte field. data is placed after
    the header and the IFDs are written after it; "DATA" as a value is the
    offset of data. The last IFD's next pointer is 0; if the list also
    holds the string "loop", every IFD's next pointer is its own offset.
    """
    out = bytearray(b"II*\0" + struct.pack("<I", 0))
    data_off = len(out)
    out += data
    if len(out) & 1:
        out += b"\0"
    offsets = []
    ifds = [e for e in entries_list if e != "loop"]
    loop_after = [i for i, e in enumerate(entries_list) if e == "loop"]
    pos = len(out)
    for entries in ifds:
        offsets.append(pos)
        pos += 2 + 12 * len(entries) + 4
    struct.pack_into("<I", out, 4, offsets[0])
    for i, entries in enumerate(ifds):
        out += struct.pack("<H", len(entries))
        for tag, typ, count, value in sorted(entries):
            if value == "DATA":
                value = data_off
            if typ == 3 and count == 1:
                field = struct.pack("<HH", value, 0)
            else:
                field = struct.pack("<I", value)
            out += struct.pack("<HHI", tag, typ, count) + field
        nxt = offsets[i + 1] if i + 1 < len(offsets) else 0
        if loop_after:
            nxt = offsets[i]
        out += struct.pack("<I", nxt)
    return bytes(out)


def tiff_gray(w, h, data_len, compression=1):
    """One greyscale 8-bit strip of w x h whose data is data_len bytes."""
    return [
        (256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 8), (259, 3, 1, compression),
        (262, 3, 1, 1), (273, 4, 1, "DATA"), (277, 3, 1, 1), (278, 4, 1, h),
        (279, 4, 1, data_len),
    ]


# ------------------------------------------------------------------ cases

class Case:
    """One hostile file: its name in the media root (the extension lies),
    make(ctx) -> its bytes, the query it is asked with, the statuses that
    are a correct answer, and what it is."""

    def __init__(self, name, make, query="", expect=(415,), what=""):
        self.name = name
        self.make = make
        self.query = query
        self.expect = frozenset(expect)
        self.what = what

    def __repr__(self):
        return "<Case %s>" % self.name


class Ctx:
    """What the payloads name: the secret outside the root, the marker
    paths no request may create, the good video clips to patch (made once,
    on first use), a segment name inside the root."""

    def __init__(self, secret_path, markers, clip_dir, segment="segment.ts"):
        self.secret = secret_path
        self.m = markers
        self.clip_dir = clip_dir
        self.segment = segment
        self._clips = None
        self._cache = {}

    @property
    def clips(self):
        if self._clips is None:
            self._clips = good_videos(self.clip_dir)
        return self._clips

    def once(self, key, fn):
        """fn() computed once per ctx (shared by several cases)."""
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]


def _z64(ctx):
    return ctx.once("z64", lambda: zeros_zlib(64 << 20))      # 64 MiB of zeros, ~64 kB


def _z256(ctx):
    return ctx.once("z256", lambda: zeros_zlib(256 << 20))


def _small_jpeg(ctx):
    return ctx.once("jpeg64", lambda: jpeg_bytes(Image.new("RGB", (64, 64), (200, 40, 40)),
                                                  quality=80))


def _ll(ctx):
    return ctx.once("ll", lambda: webp_lossless(Image.new("RGB", (16, 16), (10, 200, 30))))


def _lossy(ctx):
    return ctx.once("lossy", lambda: webp_lossy(Image.new("RGB", (16, 16), (10, 200, 30))))


def _tiny_png(extra):
    return png(16, 16, zlib.compress(bytes(17 * 16)), extra=extra)


def bomb_cases():
    """Decompression bombs over a limit of the default config (100 MP of
    source, 65535 a side, 300 frames, 25 MP of output) or that do not
    decode, and a few whose declared size is moderate but whose data
    inflates without end. None may take long or much memory."""
    C = Case
    return [
        C("png-50000x50000.png", lambda c: png(50000, 50000, _z64(c)), "size=200x200",
          (413, 422), "PNG: IHDR says 50000x50000 (2.5 GP), 64 kB of IDAT"),
        C("png-6553500x1.jpg", lambda c: png(6553500, 1, _z64(c)), "size=200x200",
          (413, 422), "PNG named .jpg: IHDR says 6553500x1 (over the 65535 side limit)"),
        C("png-4gib-idat.png", lambda c: png(2000, 2000, zeros_zlib(4 << 30)),
          "size=200x200", (422,),
          "PNG 2000x2000 (4 MP, within limits) whose IDAT inflates to 4 GiB (4 MB on "
          "disk): the rows need 4 MB of it, the rest must not cost seconds "
          "(libpng alone: 9-11 s)"),
        C("png-4gib-idat-info.png", lambda c: png(2000, 2000, zeros_zlib(4 << 30)),
          "info", (422,),
          "the same, ?info (grey: the alpha check decodes the first frame)"),
        C("png-ztxt-bomb.png",
          lambda c: _tiny_png([(b"zTXt", b"Comment\0\0" + _z256(c))]), "size=8x8",
          (200, 413, 422), "PNG 16x16 with a zTXt chunk inflating to 256 MiB"),
        C("png-iccp-bomb.png",
          lambda c: _tiny_png([(b"iCCP", b"bomb\0\0" + _z256(c))]), "size=8x8",
          (200, 413, 422), "PNG 16x16 with an iCCP profile inflating to 256 MiB"),
        C("gif-screen-65535.gif", lambda c: gif_one(1, 1, (65535, 65535)), "",
          (413,), "GIF: logical screen 65535x65535 (4.3 GP), one 1x1 frame"),
        C("gif-frame-65535.gif", lambda c: gif_descriptor_bomb(65535, 65535),
          "size=100x100", (413, 422),
          "GIF: 1x1 screen, a frame descriptor of 65535x65535 with 5 bytes of LZW"),
        C("gif-5000-frames.gif", lambda c: gif_frames(1, 1, 5000), "", (413,),
          "animated GIF: 5000 frames of 1x1 (frame-count limit 300)"),
        C("gif-5000-frames-resized.gif", lambda c: gif_frames(1, 1, 5000),
          "size=50x50&enlarge=1", (413,), "the same, resized (GIF out: every frame)"),
        C("gif-5000-frames-webp.gif", lambda c: gif_frames(1, 1, 5000),
          "format=webp", (413,), "the same, as an animated WebP"),
        C("gif-250x1000x1000.gif", lambda c: gif_frames(1000, 1000, 250), "", (413,),
          "animated GIF: 250 frames of 1000x1000 (250 MP over all frames)"),
        C("jpeg-65000x65000.jpg", lambda c: jpeg_with_size(_small_jpeg(c), 65000, 65000),
          "size=200x200", (413,), "JPEG: SOF says 65000x65000 (4.2 GP), 64x64 of scan data"),
        C("jpeg-65000x65000-noparam.jpg",
          lambda c: jpeg_with_size(_small_jpeg(c), 65000, 65000), "", (413,),
          "the same, no parameters (the source size out)"),
        C("jpeg-scan-bomb.jpg", lambda c: jpeg_scan_bomb(3000), "size=200x200",
          (413, 422), "progressive JPEG 4096x4096 of 3000 scans of 15 bytes "
          "(djpeg: 13 s)"),
        C("webp-vp8l-16384.webp", lambda c: webp_vp8l_size(_ll(c), 16384, 16384),
          "size=200x200", (413, 422), "lossless WebP: VP8L header says 16384x16384 (268 MP)"),
        C("webp-vp8-16383.webp", lambda c: webp_vp8_size(_lossy(c), 16383, 16383),
          "size=200x200", (413, 422), "lossy WebP: VP8 frame header says 16383x16383"),
        C("webp-vp8x-canvas.webp", lambda c: webp_vp8x_canvas(_ll(c), 1 << 24, 1 << 24),
          "size=200x200", (413, 422), "WebP: VP8X canvas 16777216x16777216, a 16x16 image"),
        C("webp-vp8x-anim-canvas.webp",
          lambda c: webp_vp8x_canvas(_ll(c), 16384, 16384, anim=True), "", (413, 415, 422),
          "animated WebP: VP8X canvas 16384x16384, one 16x16 frame"),
        C("tiff-100000x100000.tif",
          lambda c: tiff([tiff_gray(100000, 100000, 64)], data=bytes(64)), "size=200x200",
          (413,), "TIFF: 100000x100000 greyscale, one strip of 64 bytes"),
        C("tiff-ifd-loop.tif", lambda c: tiff([tiff_gray(4, 4, 16), "loop"], data=bytes(16)),
          "size=20x20", (200, 422), "TIFF whose IFD chain points back at itself"),
        C("tiff-3000-pages.tif", lambda c: tiff([tiff_gray(4, 4, 16)] * 3000, data=bytes(16)),
          "frame=2999&size=20x20", (413,),
          "TIFF of 3000 pages, the last one asked for (frame-count limit 300)"),
    ]


def dense_cases():
    """Files of a few kB whose headers declare a size just within the
    default source limit (81 MP of the 100 MP allowed) and whose data is
    zeros or missing: the decoder allocates the whole picture before it
    finds out. What they cost is bounded by the limit, not by the file."""
    C = Case
    return [
        C("dense-tiff-9000.tif",
          lambda c: tiff([tiff_gray(9000, 9000, len(_z64(c)), compression=8)], data=_z64(c)),
          "size=200x200", (200, 413, 422),
          "TIFF 9000x9000 greyscale, a deflate strip of 64 MiB of zeros (64 kB)"),
        C("dense-png-9000.png",
          lambda c: png(9000, 9000, zeros_zlib(9001 * 9000)), "size=200x200", (200, 413, 422),
          "PNG 9000x9000 greyscale of zeros (80 kB)"),
        C("dense-jpeg-9000-cut.jpg", lambda c: jpeg_with_size(_small_jpeg(c), 9000, 9000),
          "size=4000x4000", (413, 422),
          "JPEG whose SOF says 9000x9000 over 64x64 of scan data (693 bytes)"),
    ]


def tragick_cases():
    """ImageTragick-style payloads under image names: text is 415 by
    sniffing; polyglots (a real image with a payload in a comment, a chunk
    or a trailer) decode as the image they are and do nothing else; image
    magic bytes followed by a payload do not decode (422)."""
    C = Case

    def t(c):
        return c.m["abs_tmp"]

    def r(c):
        return c.m["abs_root"]

    def rel(c):
        return c.m["rel"]

    def mvg_payload(c):
        return ("push graphic-context\nviewbox 0 0 1 1\n"
                "fill 'url(https://x/\"|touch \"%s\")'\npop graphic-context\n" % t(c)).encode()

    def base_img():
        return Image.new("RGB", (40, 30), (30, 90, 200))

    def png_bytes(im):
        b = io.BytesIO()
        im.save(b, "PNG")
        return b.getvalue()

    def png_text(c):
        p = png_bytes(base_img())
        text = png_chunk(b"tEXt", b"Comment\0" + mvg_payload(c)) + \
            png_chunk(b"tEXt", ("Filename\0|touch %s" % t(c)).encode())
        iend = p.rfind(b"IEND") - 4
        return p[:iend] + text + p[iend:]

    def jpeg_com(c):
        j = jpeg_bytes(base_img(), quality=85)
        pl = mvg_payload(c)
        return j[:2] + b"\xff\xfe" + struct.pack(">H", len(pl) + 2) + pl + j[2:]

    def gif_comment(c):
        b = io.BytesIO()
        base_img().save(b, "GIF", comment=mvg_payload(c))
        return b.getvalue()

    def svg_pipe(c):
        return ('<?xml version="1.0" standalone="no"?>\n'
                '<svg width="640px" height="480px" xmlns="http://www.w3.org/2000/svg" '
                'xmlns:xlink="http://www.w3.org/1999/xlink">\n'
                '<image xlink:href="|touch %s" x="0" y="0" height="10" width="10"/>\n'
                '<image xlink:href="msl:%s" x="0" y="0" height="10" width="10"/>\n'
                '</svg>\n' % (t(c), r(c))).encode()

    return [
        C("mvg-url-touch.jpg", lambda c: (
            "push graphic-context\nviewbox 0 0 640 480\n"
            "fill 'url(https://127.0.0.1/x.jpg\"|touch \"%s\")'\n"
            "pop graphic-context\n" % t(c)).encode(), "", (415,),
          "MVG: fill url(...\"|touch MARKER\") (CVE-2016-3714)"),
        C("mvg-backtick.png", lambda c: (
            "push graphic-context\nviewbox 0 0 640 480\n"
            "image over 0,0 0,0 'https://127.0.0.1/x.php?x=`touch %s`'\n"
            "pop graphic-context\n" % r(c)).encode(), "size=100x100", (415,),
          "MVG: image over an URL with a backtick command"),
        C("mvg-read-passwd.gif", lambda c: (
            b"push graphic-context\nviewbox 0 0 640 480\n"
            b"image over 0,0 0,0 '/etc/passwd'\npop graphic-context\n"), "", (415,),
          "MVG: image over '/etc/passwd'"),
        C("mvg-text-secret.jpg", lambda c: (
            "push graphic-context\nviewbox 0 0 640 480\n"
            "image over 0,0 0,0 'text:%s'\npop graphic-context\n" % c.secret).encode(),
          "size=640x480&format=png", (415,), "MVG: image over 'text:SECRET'"),
        C("mvg-label-secret.png", lambda c: (
            "viewbox 0 0 100 100\nimage over 0,0 0,0 'label:@%s'\n" % c.secret).encode(),
          "", (415,), "MVG: label:@SECRET"),
        C("mvg-ephemeral.jpg", lambda c: (
            "push graphic-context\nviewbox 0 0 640 480\n"
            "image over 0,0 0,0 'ephemeral:%s'\npop graphic-context\n" % c.secret).encode(),
          "", (415,), "MVG: ephemeral:SECRET (read, then delete)"),
        C("msl-write.jpg", lambda c: (
            '<?xml version="1.0" encoding="UTF-8"?>\n<image>\n'
            '<read filename="%s" />\n<write filename="%s" />\n</image>\n'
            % (c.secret, t(c))).encode(), "", (415,), "MSL: read SECRET, write MARKER"),
        C("msl-write-rel.png", lambda c: (
            '<?xml version="1.0"?><image><read filename="/etc/passwd"/>'
            '<write filename="%s"/></image>' % rel(c)).encode(), "size=10x10", (415,),
          "MSL: read /etc/passwd, write a relative MARKER"),
        C("svg-file-secret.jpg", lambda c: (
            '<?xml version="1.0" standalone="no"?>\n'
            '<svg width="640px" height="480px" version="1.1" '
            'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">\n'
            '<image xlink:href="file://%s" x="0" y="0" height="640px" width="480px"/>\n'
            '</svg>\n' % c.secret).encode(), "format=png", (415,),
          "SVG: image xlink:href=file://SECRET"),
        C("svg-pipe-touch.png", svg_pipe, "", (415,),
          "SVG: image xlink:href=\"|touch MARKER\" and msl:MARKER"),
        C("svg-bare.gif", lambda c: (
            '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            'width="10" height="10"><image xlink:href="text:%s" width="10" height="10"/></svg>'
            % c.secret).encode(), "", (415,), "SVG without an XML declaration: text:SECRET"),
        C("svg-xxe.jpg", lambda c: (
            '<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY x SYSTEM "file://%s">]>\n'
            '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            '<text>&x;</text></svg>\n' % c.secret).encode(), "", (415,),
          "SVG with an XML external entity of SECRET"),
        C("ps-touch.jpg", lambda c: (
            "%%!PS-Adobe-3.0\n/f (%s) (w) file def f (pwned) writestring f closefile\n"
            "(%s) (r) file 100 string readstring pop print\nshowpage\n"
            % (t(c), c.secret)).encode(), "", (415,),
          "PostScript: writes MARKER, reads SECRET"),
        C("eps-touch.png", lambda c: (
            "%%!PS-Adobe-3.0 EPSF-3.0\n%%%%BoundingBox: 0 0 10 10\n"
            "(%s) (w) file closefile\nshowpage\n" % r(c)).encode(), "size=10x10", (415,),
          "EPS: writes MARKER in the media root"),
        C("pdf.jpg", lambda c: (
            b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"),
          "", (415,), "PDF"),
        C("text-at-file.jpg", lambda c: ("@%s\n" % c.secret).encode(), "", (415,),
          "text: '@SECRET'"),
        C("miff.png", lambda c: (
            b"id=ImageMagick  version=1.0\nclass=DirectClass  colors=0  matte=False\n"
            b"columns=1  rows=1  depth=8\n\x0c\n:\x1a\xff\x00\x00"), "", (415,), "MIFF"),
        C("xbm.gif", lambda c: (
            b"#define x_width 8\n#define x_height 1\nstatic char x_bits[] = {0xff};\n"),
          "", (415,), "XBM (C source)"),
        C("uri-list.jpg", lambda c: ("file://%s\nhttps://127.0.0.1/x.jpg\n"
                                     % c.secret).encode(), "", (415,), "a list of URLs"),
        C("jpeg-mvg-trailer.jpg", lambda c: jpeg_bytes(base_img(), quality=85) + mvg_payload(c),
          "size=20x15", (200,), "a real JPEG followed by an MVG"),
        C("jpeg-mvg-comment.jpg", jpeg_com, "size=20x15", (200,),
          "a real JPEG with an MVG in a COM segment"),
        C("png-mvg-trailer.png", lambda c: png_bytes(base_img()) + mvg_payload(c),
          "size=20x15", (200,), "a real PNG followed by an MVG"),
        C("png-text-payload.png", png_text, "size=20x15", (200,),
          "a real PNG with tEXt chunks holding an MVG and a |touch file name"),
        C("png-text-payload-src.png", png_text, "", (200,),
          "the same, no parameters (served as PNG)"),
        C("gif-comment-payload.gif", gif_comment, "size=20x15", (200,),
          "a real GIF whose comment is an MVG"),
        C("jpeg-magic-then-mvg.jpg", lambda c: b"\xff\xd8\xff\xe0" + mvg_payload(c), "",
          (422,), "JPEG magic bytes, then an MVG"),
        C("png-magic-then-msl.png", lambda c: b"\x89PNG\r\n\x1a\n" + (
            '<?xml version="1.0"?><image><read filename="%s"/><write filename="%s"/></image>'
            % (c.secret, t(c))).encode(), "", (422,), "PNG signature, then an MSL"),
        C("gif-magic-then-svg.gif", lambda c: b"GIF89a" + svg_pipe(c), "", (422,),
          "GIF magic, then an SVG"),
    ]


def tragick_names(marker_rel):
    """File names that would mean something to a coder or a shell if they
    were ever handed to one: each holds a valid JPEG and is served as one."""
    return [
        "|touch %s.jpg" % marker_rel,
        "msl:%s.jpg" % marker_rel,
        "text:%s.jpg" % marker_rel,
        "mvg:x.jpg",
        "@x.jpg",
        "$(touch %s).jpg" % marker_rel,
        "`touch %s`.jpg" % marker_rel,
        "x.jpg;touch %s" % marker_rel,
        "-x.jpg",
        "x.jpg[0]",
        "ephemeral:x.jpg",
    ]


# ------------------------------------------------------------------ video

def _run(argv, timeout=120):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(argv), p.stderr.decode()[-2000:]))
    return p.stdout


def ffmpeg_clip(path, codec_args, seconds=1, size="160x120", fps=10, fmt=None):
    argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
            "-i", "testsrc=size=%s:rate=%d:duration=%s" % (size, fps, seconds)]
    argv += list(codec_args)
    if fmt:
        argv += ["-f", fmt]
    _run(argv + [path])
    with open(path, "rb") as f:
        return f.read()


def bmff_boxes(data, start=0, end=None):
    out = []
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, typ = struct.unpack(">I4s", data[pos:pos + 8])
        hdr = 8
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
            hdr = 16
        elif size == 0:
            size = end - pos
        if size < hdr:
            break
        out.append((typ, pos, size, hdr))
        pos += size
    return out


CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"dinf", b"stbl", b"edts", b"udta"}


def bmff_rewrite(data, fn, start=0, end=None):
    """data[start:end] with every box passed through fn(type, payload) ->
    payload (or None to keep it), containers recursed into, sizes redone.
    Only for files whose moov follows mdat (sample offsets do not move)."""
    out = b""
    for typ, pos, size, hdr in bmff_boxes(data, start, end):
        payload = data[pos + hdr:pos + size]
        if typ in CONTAINERS:
            payload = bmff_rewrite(data, fn, pos + hdr, pos + size)
        new = fn(typ, payload)
        if new is not None:
            payload = new
        out += struct.pack(">I4s", 8 + len(payload), typ) + payload
    return out


def alis_dref(path):
    """A dref box payload with one Macintosh alias ('alis') entry whose
    absolute path (type 2) is path: what libav's mov demuxer would open
    beside the file if drefs were enabled."""
    fixed = bytearray(150)
    # volume name length 0 (fixed[10]), filename "x" (length at 50)
    fixed[50] = 1
    fixed[51] = ord("x")
    # nlvl_from / nlvl_to at 130: 1, 1
    struct.pack_into(">HH", fixed, 130, 1, 1)
    p = path.encode()
    tlv = struct.pack(">hH", 2, len(p)) + p + (b"\0" if len(p) & 1 else b"")
    tlv += struct.pack(">hH", -1, 0)
    entry_body = b"alis" + b"\0\0\0\0" + bytes(fixed) + tlv
    entry = struct.pack(">I", 4 + len(entry_body)) + entry_body
    return b"\0\0\0\0" + struct.pack(">I", 1) + entry


def mp4_with_dref(mp4_tail_moov, path):
    """An MP4 (moov after mdat) whose sample data is said to live in path."""
    def fn(typ, payload):
        if typ == b"dref":
            return alis_dref(path)
        return None
    return bmff_rewrite(mp4_tail_moov, fn)


def mp4_with_dims(mp4, w, h):
    """The sample entry (avc1) and tkhd of an MP4 saying w x h."""
    def fn(typ, payload):
        if typ == b"stsd":
            b = bytearray(payload)
            i = b.find(b"avc1")
            if i >= 4:
                struct.pack_into(">HH", b, i + 4 + 24, w, h)
            return bytes(b)
        if typ == b"tkhd":
            b = bytearray(payload)
            struct.pack_into(">II", b, len(b) - 8, w << 16, h << 16)
            return bytes(b)
        return None
    return bmff_rewrite(mp4, fn)


def mp4_with_duration(mp4, seconds):
    """mvhd and every mdhd say the movie lasts seconds."""
    def fn(typ, payload):
        b = bytearray(payload)
        if typ in (b"mvhd", b"mdhd"):
            if b[0] == 0:        # version 0: 32-bit times
                scale = struct.unpack(">I", b[12:16])[0]
                struct.pack_into(">I", b, 16, min(0xFFFFFFFF, int(seconds * scale)))
            else:
                scale = struct.unpack(">I", b[20:24])[0]
                struct.pack_into(">Q", b, 24, int(seconds * scale))
            return bytes(b)
        if typ == b"elst":
            return b"\0\0\0\0\0\0\0\0"       # no edit list
        return None
    return bmff_rewrite(mp4, fn)


def mkv_with_dims(mkv, w, h):
    """The Matroska PixelWidth/PixelHeight elements of a 320x256 clip set
    to w x h (ffmpeg writes them in 2 bytes at that size)."""
    b = bytearray(mkv)
    for eid, old, v in ((b"\xb0", 320, w), (b"\xba", 256, h)):
        i = b.find(eid + b"\x82" + struct.pack(">H", old), 0, 4096)
        if i < 0:
            raise ValueError("no 2-byte element %r = %d" % (eid, old))
        struct.pack_into(">H", b, i + 2, v)
    return bytes(b)


def video_cases():
    """Text that some libav demuxer or protocol would follow to another
    file, saved as .mp4 (415: not even sniffed as video); the same behind a
    real MP4 box or TS sync bytes (sniffed, then nothing to decode: 422);
    real MP4s whose dref aliases SECRET or /etc/passwd (libav skips them:
    nothing to decode); headers over the video limits (413)."""
    C = Case

    def hls(c):
        return ("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
                "#EXTINF:10.0,\nfile://%s\n#EXTINF:10.0,\n%s\n#EXTINF:10.0,\n"
                "file:///etc/passwd\n#EXTINF:10.0,\n%s\n#EXT-X-ENDLIST\n"
                % (c.secret, c.secret, c.segment)).encode()

    def ffconcat(c):
        return ("ffconcat version 1.0\nfile '%s'\nfile '/etc/passwd'\nfile '%s'\n"
                % (c.secret, c.segment)).encode()

    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 0x200, b"isom", b"mp41")

    def ts_sync(c):
        pkt = bytearray(b"\x47\x1f\xff\x10" + bytes(184))
        h = hls(c)[:184]
        pkt[4:4 + len(h)] = h
        return bytes(pkt) * 4

    return [
        C("hls-secret.mp4", hls, "", (415,),
          "HLS playlist: SECRET, file:///etc/passwd, a segment in the root"),
        C("hls-master.mp4", lambda c: (
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nfile://%s\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=2000\nhttp://127.0.0.1:1/x.m3u8\n" % c.secret).encode(),
          "size=100x100", (415,), "HLS master playlist"),
        C("ffconcat.mp4", ffconcat, "", (415,), "ffconcat list"),
        C("concat-proto.mp4", lambda c: ("concat:%s|/etc/passwd" % c.secret).encode(), "",
          (415,), "concat: URL"),
        C("subfile-proto.mp4", lambda c: ("subfile,,start,0,end,100,,:%s" % c.secret).encode(),
          "", (415,), "subfile: URL"),
        C("file-url.mp4", lambda c: ("file://%s\n" % c.secret).encode(), "", (415,),
          "a file:// URL"),
        C("sdp.mp4", lambda c: (
            b"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\n"
            b"m=video 5004 RTP/AVP 96\na=rtpmap:96 H264/90000\n"), "", (415,), "SDP"),
        C("ftyp-then-hls.mp4", lambda c: ftyp + hls(c), "", (422,),
          "an ftyp box, then an HLS playlist"),
        C("ftyp-then-ffconcat.mp4", lambda c: ftyp + ffconcat(c), "", (422,),
          "an ftyp box, then an ffconcat list"),
        C("ts-sync-playlist.ts", ts_sync, "", (422,),
          "TS sync bytes every 188, an HLS playlist as the payload"),
        C("mp4-dref-secret.mp4", lambda c: mp4_with_dref(c.clips["mp4_tail"], c.secret), "",
          (422,), "H.264 MP4 whose dref is a QuickTime alias to SECRET"),
        C("mp4-dref-passwd.mp4", lambda c: mp4_with_dref(c.clips["mp4_tail"], "/etc/passwd"),
          "size=80x60", (422,), "H.264 MP4 whose dref is an alias to /etc/passwd"),
        C("mp4-12000x12000.mp4", lambda c: mp4_with_dims(c.clips["mp4_tail"], 12000, 12000),
          "", (200, 413), "MP4 whose avc1/tkhd say 12000x12000 (side limit 8192) over a "
          "160x120 H.264 stream: the stream's size is the one that counts"),
        C("mp4-sps-16000.mp4", lambda c: mp4_with_sps_size(c.clips["mp4_tail"], 1000, 1000),
          "", (413,), "MP4 of 14 kB, container says 160x120, its H.264 SPS says "
          "16000x15992 (side limit 8192)"),
        C("mp4-duration-10y.mp4",
          lambda c: mp4_with_duration(c.clips["mp4_tail"], 10 * 365 * 86400), "t=50%25",
          (413,), "MP4 whose mvhd/mdhd say 4294967 s (duration limit 6 h)"),
        C("webm-12000x12000.webm", lambda c: mkv_with_dims(c.clips["webm"], 12000, 12000), "",
          (200, 413), "WebM whose PixelWidth/PixelHeight say 12000x12000 over a small VP8 "
          "stream: the stream's size is the one that counts (the decoders are capped at "
          "max_video_side squared)"),
    ]


# ------------------------------------------------------------------ good fixtures

def good_images():
    """name -> bytes of the valid images the mutants start from."""
    im = Image.new("RGB", (96, 64), (30, 90, 200))
    d = ImageDraw.Draw(im)
    d.rectangle([10, 10, 60, 40], fill=(240, 220, 20))
    d.ellipse([50, 20, 90, 60], fill=(230, 30, 30))
    out = {}
    out["jpeg"] = jpeg_bytes(im, quality=85)
    out["pjpeg"] = jpeg_bytes(im, quality=85, progressive=True)
    b = io.BytesIO()
    im.save(b, "PNG")
    out["png"] = b.getvalue()
    b = io.BytesIO()
    frames = [im, im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), im.rotate(180)]
    frames[0].save(b, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    out["gif"] = b.getvalue()
    out["webp"] = webp_lossy(im)
    out["webpll"] = webp_lossless(im)
    b = io.BytesIO()
    im.save(b, "TIFF", compression="tiff_lzw")
    out["tiff"] = b.getvalue()
    return out


EXT = {"jpeg": "jpg", "pjpeg": "jpg", "png": "png", "gif": "gif", "webp": "webp",
       "webpll": "webp", "tiff": "tif", "mp4": "mp4", "webm": "webm", "mp4_tail": "mp4"}


def good_videos(tmpdir):
    """name -> bytes: a faststart H.264 MP4, a baseline-profile one with
    moov at the end (160x120 both), a VP8 WebM (320x256); 1 s at 10 fps."""
    os.makedirs(tmpdir, exist_ok=True)
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "5"]
    return {
        "mp4": ffmpeg_clip(tmpdir + "/a.mp4", x264 + ["-movflags", "+faststart"]),
        "mp4_tail": ffmpeg_clip(tmpdir + "/b.mp4", x264 + ["-profile:v", "baseline"]),
        "webm": ffmpeg_clip(tmpdir + "/c.webm", ["-c:v", "libvpx", "-b:v", "200k",
                                                 "-deadline", "realtime", "-cpu-used", "8"],
                            size="320x256"),
    }


MUTANTS = 20           # variants per format: 8 truncations, 12 bit-flip sets


def mutant(data, seed, i):
    """(what, bytes): variant i of data. 0..7 truncate it (empty, inside
    the magic, in the header, at 100 bytes, a quarter, a half, one byte
    short); 8..19 flip 1..16 random bits (seeded: every run sends the same
    bytes; two thirds spare the first 16 bytes so the magic survives)."""
    n = len(data)
    if i < 8:
        cut = [0, 1, 5, 24, 100, n // 4, n // 2, n - 1][i]
        return "cut at %d of %d" % (cut, n), data[:cut]
    rnd = random.Random("%s-%d" % (seed, i))
    b = bytearray(data)
    nbits = rnd.choice((1, 1, 2, 4, 8, 16))
    lo = 16 if i % 3 else 0
    where = []
    for _ in range(nbits):
        pos = rnd.randrange(lo, n)
        b[pos] ^= 1 << rnd.randrange(8)
        where.append(pos)
    return "%d bit(s) flipped at %s" % (nbits, sorted(where)), bytes(b)


# ------------------------------------------------------------------ H.264 SPS

def _ue_bits(v):
    v += 1
    n = v.bit_length()
    return "0" * (n - 1) + format(v, "b")


def _read_ue(s, pos):
    z = 0
    while s[pos + z] == "0":
        z += 1
    v = int(s[pos + z:pos + 2 * z + 1], 2) - 1
    return v, pos + 2 * z + 1


def _unescape(nal):
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


def _escape(rbsp):
    out = bytearray()
    zeros = 0
    for b in rbsp:
        if zeros >= 2 and b <= 3:
            out.append(3)
            zeros = 0
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def sps_with_size(sps, mb_w, mb_h):
    """A baseline/main-profile H.264 SPS NAL (header byte included) with
    pic_width_in_mbs = mb_w and pic_height_in_map_units = mb_h."""
    rbsp = _unescape(sps[1:])
    s = "".join(format(b, "08b") for b in rbsp)
    profile = rbsp[0]
    assert profile in (66, 77), "baseline or main profile only (got %d)" % profile
    pos = 24
    _, pos = _read_ue(s, pos)                      # seq_parameter_set_id
    _, pos = _read_ue(s, pos)                      # log2_max_frame_num_minus4
    poc, pos = _read_ue(s, pos)                    # pic_order_cnt_type
    if poc == 0:
        _, pos = _read_ue(s, pos)
    elif poc == 1:
        raise ValueError("pic_order_cnt_type 1 not handled")
    _, pos = _read_ue(s, pos)                      # max_num_ref_frames
    pos += 1                                       # gaps_in_frame_num_allowed
    start = pos
    _, pos = _read_ue(s, pos)                      # pic_width_in_mbs_minus1
    _, pos = _read_ue(s, pos)                      # pic_height_in_map_units_minus1
    rest = s[pos:].rstrip("0")[:-1]                # without rbsp_stop_one_bit + padding
    bits = s[:start] + _ue_bits(mb_w - 1) + _ue_bits(mb_h - 1) + rest + "1"
    bits += "0" * (-len(bits) % 8)
    out = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
    return sps[:1] + _escape(out)


def mp4_with_sps_size(mp4_tail, mb_w, mb_h):
    """An H.264 MP4 (moov at the end, baseline profile) whose SPS in avcC
    says mb_w x mb_h macroblocks while its container header and its slice
    data stay small: the decoder allocates the SPS's size."""
    def fn(typ, payload):
        if typ != b"stsd":
            return None
        b = bytes(payload)
        i = b.find(b"avcC")
        assert i > 0
        size = struct.unpack(">I", b[i - 4:i])[0]
        avcc = b[i + 4:i - 4 + size]
        assert avcc[5] & 0x1F == 1, "one SPS expected"
        n = struct.unpack(">H", avcc[6:8])[0]
        sps = avcc[8:8 + n]
        new = sps_with_size(sps, mb_w, mb_h)
        avcc2 = avcc[:6] + struct.pack(">H", len(new)) + new + avcc[8 + n:]
        box = struct.pack(">I4s", 8 + len(avcc2), b"avcC") + avcc2
        delta = len(box) - size
        b = b[:i - 4] + box + b[i - 4 + size:]
        # the avc1 sample entry that holds avcC grows by delta
        j = b.find(b"avc1")
        ent = struct.unpack(">I", b[j - 4:j])[0]
        b = b[:j - 4] + struct.pack(">I", ent + delta) + b[j:]
        return b
    return bmff_rewrite(mp4_tail, fn)
