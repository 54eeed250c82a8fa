#!/usr/bin/env python3
"""Generate the hostile-input family of issue #16 (bounded time and memory).

Each file is small on disk but would cost gigabytes or minutes if memtk
expanded, inflated, converted or recursed the way a naive reader does:

  memo_bomb.pickle          10^4 segments share one memoised list of 10^4
                            blocks (10^8 blocks if expanded), ~630 KB
  history_bomb.pickle       10^4 blocks share one memoised history of 10^4
                            entries
  extras_bomb.pickle        10^5 events each carry a memoised 60 KB string
                            under an unknown key (6 GB of `extra` JSON)
  reduce_bomb.pickle        10^4 OrderedDict(REDUCE) calls copy one memoised
                            list of 10^4 pairs (10^8 items)
  string_bomb.pickle.gz     a 1 GiB string under an unknown key, ~1 MB gzip'd
  string_bomb.json.gz       the same as JSON
  escapes_bomb.json.gz      a 1 GiB JSON string made of `\\n` escapes
  number_bomb.json.gz       a JSON number with 256 MiB fraction digits
  big_long4.pickle          a 1 MiB LONG4 (quadratic decimal conversion)
  big_long1.pickle          a 255-byte LONG1 (under the limit: converted)
  deep.json                 9,999 nested arrays (under memtk's 10,000 cap)
  too_deep.json             10,001 nested arrays (over the cap)
  trailer_cut.pickle.gz     a valid gzip'd snapshot cut inside its 8-byte
                            trailer
  bad_crc.pickle.gz         the same with its CRC-32 flipped

--fuzz-corpus writes the seed corpora of the JSON and gzip fuzz targets
(tests/fuzz/json_corpus, tests/fuzz/gzip_corpus) instead.

--small shrinks the gzip bombs to 256 MiB (for ctest on a shared machine:
still 4 GB of RSS for a reader that materialises them).

Run from anywhere:  python3 scripts/gen_hostile.py -o DIR [--small]
                    python3 scripts/gen_hostile.py --fuzz-corpus
"""
import argparse
import gzip
import os
import struct
import zlib

_P = struct.pack


class Pk:
    """A tiny protocol-4 pickle writer that emits opcodes as told."""

    def __init__(self):
        self.b = bytearray(b"\x80\x04")
        self.memo = 0

    def op(self, raw):
        self.b += raw
        return self

    def s(self, text):
        data = text.encode()
        if len(data) < 256:
            self.b += b"\x8c" + bytes([len(data)]) + data
        else:
            self.b += b"X" + _P("<I", len(data)) + data
        return self

    def i(self, v):
        if 0 <= v < 256:
            self.b += b"K" + bytes([v])
        elif -(2**31) <= v < 2**31:
            self.b += b"J" + _P("<i", v)
        else:
            n = (v.bit_length() + 8) // 8
            self.b += b"\x8a" + bytes([n]) + v.to_bytes(n, "little", signed=True)
        return self

    def memoize(self):
        self.b += b"\x94"
        self.memo += 1
        return self.memo - 1

    def get(self, idx):
        self.b += (b"h" + bytes([idx])) if idx < 256 else (b"j" + _P("<I", idx))
        return self

    def stop(self):
        return bytes(self.b + b".")


def build_root(pairs):
    """Root dict from (key, writer-callback) pairs, CPython's MARK/SETITEMS shape."""
    p = Pk()
    p.op(b"}(")
    for key, write in pairs:
        p.s(key)
        write(p)
    p.op(b"u")
    return p


def memo_bomb_pickle(n_segments=10_000, n_blocks=10_000):
    state = {}

    def segments(p):
        p.op(b"](")
        for si in range(n_segments):
            p.op(b"}(").s("device").i(0).s("address").i(0x7F0000000000 + si * (1 << 24))
            p.s("total_size").i(n_blocks * 512).s("stream").i(0).s("blocks")
            if "blocks" not in state:
                p.op(b"]")
                state["blocks"] = p.memoize()
                p.op(b"(")
                for bi in range(n_blocks):
                    p.op(b"}(").s("size").i(512).s("state").s("active_allocated").op(b"u")
                    if bi % 1000 == 999:
                        p.op(b"e(")
                p.op(b"e")
            else:
                p.get(state["blocks"])
            p.op(b"u")
            if si % 1000 == 999:
                p.op(b"e(")
        p.op(b"e")

    return build_root([("segments", segments), ("device_traces", lambda p: p.op(b"]"))]).stop()


def history_bomb_pickle(n_blocks=10_000, n_entries=10_000):
    state = {}

    def segments(p):
        p.op(b"](").op(b"}(").s("device").i(0).s("address").i(0x7F0000000000)
        p.s("total_size").i(n_blocks * 512).s("blocks").op(b"](")
        for bi in range(n_blocks):
            p.op(b"}(").s("size").i(512).s("state").s("active_allocated").s("history")
            if "h" not in state:
                p.op(b"]")
                state["h"] = p.memoize()
                p.op(b"(")
                for hi in range(n_entries):
                    p.op(b"}(").s("addr").i(0x7F0000000000 + hi).s("real_size").i(512).op(b"u")
                    if hi % 1000 == 999:
                        p.op(b"e(")
                p.op(b"e")
            else:
                p.get(state["h"])
            p.op(b"u")
            if bi % 1000 == 999:
                p.op(b"e(")
        p.op(b"e").op(b"u").op(b"e")

    return build_root([("segments", segments), ("device_traces", lambda p: p.op(b"]"))]).stop()


def extras_bomb_pickle(n_events=100_000, value_bytes=60_000):
    state = {}

    def traces(p):
        p.op(b"](").op(b"](")
        for ei in range(n_events):
            p.op(b"}(")
            for key in ("action", "alloc", "addr"):
                if key in state:
                    p.get(state[key])
                else:
                    p.s(key)
                    state[key] = p.memoize()
            p.i(0x7F0000000000 + 512 * ei)
            if "k" in state:
                p.get(state["k"]).get(state["v"])
            else:
                p.s("junk")
                state["k"] = p.memoize()
                p.s("x" * value_bytes)
                state["v"] = p.memoize()
            p.op(b"u")
            if ei % 1000 == 999:
                p.op(b"e(")
        p.op(b"e").op(b"e")

    return build_root([("segments", lambda p: p.op(b"]")), ("device_traces", traces)]).stop()


def reduce_bomb_pickle(n_calls=10_000, n_pairs=10_000):
    state = {}

    def junk(p):
        p.op(b"](")
        for ci in range(n_calls):
            if "g" in state:
                p.get(state["g"])
            else:
                p.s("collections").s("OrderedDict").op(b"\x93")
                state["g"] = p.memoize()
            if "l" in state:
                p.get(state["l"])
            else:
                p.op(b"]")
                state["l"] = p.memoize()
                p.op(b"(")
                for k in range(n_pairs):
                    p.i(k).i(k).op(b"\x86")
                    if k % 1000 == 999:
                        p.op(b"e(")
                p.op(b"e")
            p.op(b"\x85R")
            if ci % 1000 == 999:
                p.op(b"e(")
        p.op(b"e")

    return build_root([("segments", lambda p: p.op(b"]")), ("device_traces", lambda p: p.op(b"]")),
                       ("junk", junk)]).stop()


def write_gzip_stream(path, head, fill_byte, fill_len, tail):
    """gzip(head + fill_byte * fill_len + tail), streamed: level 1, 1 MiB at a time."""
    chunk = fill_byte * (1 << 20)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(head)
        left = fill_len
        while left >= len(chunk):
            gz.write(chunk)
            left -= len(chunk)
        gz.write(fill_byte * left)
        gz.write(tail)


def string_bomb_pickle_gz(path, n):
    head = Pk().op(b"}(").s("segments").op(b"]")
    one_event_trace(head)
    head.s("junk")
    head.op(b"\x8d" + _P("<Q", n))
    write_gzip_stream(path, bytes(head.b), b"a", n, b"u.")


def json_bomb_gz(path, fill_byte, n, open_text=b'"', close_text=b'"'):
    head = b'{"segments":[],"device_traces":[[{"action":"alloc","addr":4096,"size":512}]],"junk":' + open_text
    write_gzip_stream(path, head, fill_byte, n, close_text + b"}")


def one_event_trace(p):
    """device_traces: one device with one alloc (so every --to has a trace)."""
    p.s("device_traces").op(b"](](").op(b"}(").s("action").s("alloc").s("addr").i(4096).s("size").i(512)
    p.s("stream").i(0).s("time_us").i(1).op(b"u").op(b"ee")


def big_long4_pickle(n=1 << 20):
    p = Pk().op(b"}(").s("segments").op(b"]")
    one_event_trace(p)
    p.s("junk")
    p.op(b"\x8b" + _P("<i", n) + b"\x5a" * (n - 1) + b"\x01")
    return p.op(b"u").stop()


def big_long1_pickle():
    p = Pk().op(b"}(").s("segments").op(b"]")
    one_event_trace(p)
    p.s("junk")
    p.op(b"\x8a\xff" + b"\x5a" * 254 + b"\x01")
    return p.op(b"u").stop()


def deep_json(depth):
    return b'{"segments":[],"device_traces":[[{"action":"alloc","addr":4096,"size":512}]],"junk":' + b"[" * depth + b"]" * depth + b"}"


def small_snapshot_pickle():
    def traces(p):
        p.op(b"](](")
        for ei in range(50):
            p.op(b"}(").s("action").s("alloc").s("addr").i(0x7F0000000000 + 512 * ei).s("size").i(512)
            p.s("stream").i(0).s("time_us").i(ei).s("frames").op(b"]").op(b"u")
        p.op(b"ee")

    return build_root([("segments", lambda p: p.op(b"]")), ("device_traces", traces)]).stop()


def fuzz_corpus(root):
    """Seeds for tests/fuzz/{json,gzip}_fuzz.cpp (their first byte is a setting)."""
    jdir, gdir = os.path.join(root, "json_corpus"), os.path.join(root, "gzip_corpus")
    for d in (jdir, gdir):
        os.makedirs(d, exist_ok=True)

    def put(d, name, data):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)

    snap = (b'{"segments":[{"device":0,"address":4096,"total_size":2048,"stream":0,"segment_type":"small",'
            b'"blocks":[{"size":512,"state":"active_allocated","frames":[{"filename":"a.py","line":3,'
            b'"name":"f"}]}]}],"device_traces":[[{"action":"alloc","addr":4096,"size":512,"stream":0,'
            b'"time_us":1,"frames":[{"filename":"a.py","line":3,"name":"f"}],"user_metadata":"",'
            b'"junk":{"k":[1,2.5,null,true,"v"]}},{"action":"free_completed","addr":4096,"size":512}]]}')
    strings = ('{"segments":[],"device_traces":[[{"action":"alloc","addr":1,"size":2,'
               '"long":"' + "abcdefghij" * 8 + '","esc":"' + "\\n\\u00e9\\\"" * 6 + '",'
               '"pairs":"' + "\\ud83d\\ude00x" * 6 + '","' + "k" * 40 + '":"\\/"}]]}').encode()
    put(jdir, "snapshot", b"\x00" + snap)          # chunk 1, nothing cut
    put(jdir, "snapshot_cut3", b"\x27" + snap)     # chunk 8, strings cut after 3 bytes
    put(jdir, "strings_cut21", b"\xe3" + strings)  # chunk 4, cut after 21 bytes
    put(jdir, "strings_cut3", b"\x21" + strings)   # chunk 2, cut after 3 bytes
    put(jdir, "deep", b"\x45" + b'{"junk":' + b"[" * 300 + b"]" * 300 + b"}")
    put(jdir, "ctrl_in_cut", b"\x42" + b'{"junk":"abcdefghij\x01klm"}')
    put(jdir, "unterminated", b"\x23" + b'{"segments":[],"junk":"abcdefghijklmnop')
    put(jdir, "numbers", b"\x07" + b'{"junk":[1e400,-0,123456789012345678901234567890,0.' + b"5" * 400 + b"]}")

    pk = small_snapshot_pickle()
    gz = gzip.compress(pk, mtime=0)
    put(gdir, "snapshot.pickle.gz", gz)
    for cut in (1, 4, 8, 9):
        put(gdir, f"cut{cut}.pickle.gz", gz[:-cut])
    bad = bytearray(gz)
    bad[-8] ^= 0x55
    put(gdir, "bad_crc.pickle.gz", bytes(bad))
    put(gdir, "two_members.pickle.gz", gzip.compress(pk[:1000], mtime=0) + gzip.compress(pk[1000:], mtime=0))
    put(gdir, "trailing_garbage.pickle.gz", gz + b"\x00\x01")
    put(gdir, "snapshot.json.gz", gzip.compress(snap, mtime=0))
    put(gdir, "plain_pickle_cut0", b"\x00" + pk)
    put(gdir, "plain_pickle_cut5", b"\x05" + pk)
    put(gdir, "plain_json_cut8", b"\x08" + snap)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--out", help="output directory")
    ap.add_argument("--small", action="store_true", help="256 MiB gzip bombs instead of 1 GiB")
    ap.add_argument("--fuzz-corpus", action="store_true", help="write the fuzz seed corpora under tests/fuzz")
    a = ap.parse_args()
    if a.fuzz_corpus:
        fuzz_corpus(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "fuzz"))
        return
    if not a.out:
        ap.error("-o DIR is required")
    os.makedirs(a.out, exist_ok=True)
    big = (256 << 20) if a.small else (1 << 30)

    def put(name, data):
        with open(os.path.join(a.out, name), "wb") as f:
            f.write(data)

    put("memo_bomb.pickle", memo_bomb_pickle())
    put("history_bomb.pickle", history_bomb_pickle())
    put("extras_bomb.pickle", extras_bomb_pickle())
    put("reduce_bomb.pickle", reduce_bomb_pickle())
    string_bomb_pickle_gz(os.path.join(a.out, "string_bomb.pickle.gz"), big)
    json_bomb_gz(os.path.join(a.out, "string_bomb.json.gz"), b"a", big)
    json_bomb_gz(os.path.join(a.out, "escapes_bomb.json.gz"), b"\\n", big // 2)
    json_bomb_gz(os.path.join(a.out, "number_bomb.json.gz"), b"7", big // 4, b"0.", b"")
    put("big_long4.pickle", big_long4_pickle())
    put("big_long1.pickle", big_long1_pickle())
    put("deep.json", deep_json(9_999))
    put("too_deep.json", deep_json(10_001))
    whole = gzip.compress(small_snapshot_pickle(), mtime=0)
    put("trailer_cut.pickle.gz", whole[:-3])
    bad = bytearray(whole)
    bad[-8] ^= 0xFF
    put("bad_crc.pickle.gz", bytes(bad))


if __name__ == "__main__":
    main()
