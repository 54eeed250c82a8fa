#!/usr/bin/env python3
"""Generate PyTorch-shaped CUDA memory snapshots of any size.

The output is byte-for-byte what CPython's pickler (protocol 4 or 5) writes
for the same object graph: EMPTY_DICT/MEMOIZE/MARK/SETITEMS in batches of
1000, BINGET/LONG_BINGET back-references to shared objects, FRAME opcodes
every ~64 KiB.  It is written as a stream, so a 20,000,000-event snapshot
needs no more memory than a small one (Python's own pickler would need the
whole object tree: tens of GB).

Sharing follows PyTorch (torch/csrc/profiler/combined_traceback.cpp,
py_symbolize, and torch/csrc/cuda/memory_snapshot.cpp): every distinct frame
is one dict object shared by every list that contains it, and every event
(and live block) gets a list object of its own, even where two events hold
the same traceback (`--shape fresh`, the default: EMPTY_LIST MEMOIZE MARK
BINGET... APPENDS per event). `--shape shared` writes one list object per
allocation instead, shared by its alloc, free_requested and free_completed
events and its block in `segments` (the shape of the first generator;
scripts/gen_fixtures.py keeps it so the committed fixtures stay the same).
`--call-sites` distinct stacks (10^2 to 10^5 in real runs), each
`--min-depth`..`--max-depth` frames deep (3 to 100 in real runs), over
`--distinct-frames` frames; `--paths windows` writes C:\\... file names.

The simulation runs twice with the same seed: the first run finds the
allocations still live at the end (they become `segments[].blocks`, written
before the trace, the way PyTorch orders the dict), the second writes.

Examples:
  gen_snapshot.py -n 2000000 --shape shared -o big.pickle   # ~185 MB (mean stack depth 23)
  gen_snapshot.py -n 2000000 --call-sites 20000 --distinct-frames 5000 \
      --min-depth 3 --max-depth 60 -o real.pickle    # fresh lists, 20K stacks
  gen_snapshot.py -n 200 --devices 2 --seed 7 -o small.pickle
  gen_snapshot.py -n 500 --legacy -o old.pickle     # PyTorch 2.0 layout
  gen_snapshot.py -n 300 --variant newest -o new.pickle
  gen_snapshot.py -n 50 --bare-list -o segs.pickle  # memory_snapshot() list
  gen_snapshot.py -n 100 --check                     # verify with pickle.loads
"""
import argparse
import gzip
import io
import pickle
import pickletools
import struct
import sys

_P = struct.pack


class Lcg:
    """Small deterministic PRNG: identical sequences across Python versions."""

    def __init__(self, seed):
        self.s = (seed * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)

    def next(self):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
        return self.s >> 33

    def below(self, n):
        return self.next() % n


class PickleStream:
    """Writes pickle opcodes exactly as CPython's C pickler does."""

    def __init__(self, out, protocol):
        self.out = out
        self.buf = bytearray()
        self.memo_len = 0
        self.protocol = protocol
        out.write(bytes([0x80, protocol]))
        self.strs = {}  # interned str -> memo index

    def memoize(self):
        self.buf += b"\x94"
        self.memo_len += 1
        return self.memo_len - 1

    def get(self, idx):
        if idx < 256:
            self.buf += b"h" + bytes([idx])
        else:
            self.buf += b"j" + _P("<I", idx)

    def commit(self, final=False):
        # The C pickler opens a new frame once the current one reaches 64 KiB.
        if len(self.buf) >= 65536 or (final and self.buf):
            if len(self.buf) >= 4:
                self.out.write(b"\x95" + _P("<Q", len(self.buf)))
            self.out.write(self.buf)
            self.buf = bytearray()

    def str(self, s):
        """A shared (interned) string: written once, then BINGET."""
        idx = self.strs.get(s)
        if idx is not None:
            self.get(idx)
            return
        self.new_str(s)
        self.strs[s] = self.memo_len - 1

    def new_str(self, s):
        b = s.encode("utf-8", "surrogatepass")
        if len(b) < 256:
            self.buf += b"\x8c" + bytes([len(b)]) + b
        else:
            self.buf += b"X" + _P("<I", len(b)) + b
        self.memoize()

    def int(self, v):
        if 0 <= v < 256:
            self.buf += b"K" + bytes([v])
        elif 0 <= v < 65536:
            self.buf += b"M" + _P("<H", v)
        elif -(2**31) <= v < 2**31:
            self.buf += b"J" + _P("<i", v)
        else:
            n = (v.bit_length() + 8) // 8  # two's complement, room for sign
            b = v.to_bytes(n, "little", signed=True)
            # CPython trims a redundant sign byte
            if len(b) > 1 and ((b[-1] == 0 and b[-2] < 0x80) or (b[-1] == 0xFF and b[-2] >= 0x80)):
                b = b[:-1]
            if len(b) < 256:
                self.buf += b"\x8a" + bytes([len(b)]) + b
            else:
                self.buf += b"\x8b" + _P("<i", len(b)) + b

    def float(self, v):
        self.buf += b"G" + _P(">d", v)

    def bool(self, v):
        self.buf += b"\x88" if v else b"\x89"

    def none(self):
        self.buf += b"N"

    def dict(self, items):
        """items: list of (key, writer-callable) pairs; keys are interned strs."""
        self.buf += b"}"
        self.memoize()
        self._items(items, lambda kv: (self.str(kv[0]), kv[1]()), b"u", b"s")

    def list(self, writers):
        self.buf += b"]"
        idx = self.memoize()
        self._items(writers, lambda w: w(), b"e", b"a")
        return idx

    def _items(self, items, emit, many, one):
        n = len(items)
        i = 0
        while i < n:
            batch = items[i : i + 1000]
            if len(batch) > 1:
                self.buf += b"("
                for it in batch:
                    emit(it)
                self.buf += many
            else:
                emit(batch[0])
                self.buf += one
            i += 1000

    def tuple2(self, a, b):
        a()
        b()
        self.buf += b"\x86"
        self.memoize()

    def stop(self):
        self.buf += b"."
        self.commit(final=True)


class Sim:
    """A toy caching allocator: enough realism for addresses to be reused,
    stacks to repeat, segments to grow and shrink, and every action to occur."""

    ACTIONS_RARE = ("segment_alloc", "segment_free", "segment_map", "segment_unmap", "snapshot", "oom")

    def __init__(self, args):
        self.a = args
        r = Lcg(args.seed)
        # Distinct frames and call sites are fixed up front.
        files = ["/opt/conda/lib/python3.11/site-packages/torch/nn/modules/module.py",
                 "/opt/conda/lib/python3.11/site-packages/torch/nn/functional.py",
                 "/opt/conda/lib/python3.11/site-packages/torch/_tensor.py",
                 "/opt/conda/lib/python3.11/site-packages/torch/optim/adamw.py",
                 "/workspace/train.py", "/workspace/model/attention.py",
                 "/workspace/model/mlp.py", "/workspace/data/loader.py",
                 "??"]
        if args.paths == "windows":
            files = ["C:\\Users\\dev\\miniconda3\\envs\\torch\\Lib\\site-packages\\torch\\nn\\modules\\module.py",
                     "C:\\Users\\dev\\miniconda3\\envs\\torch\\Lib\\site-packages\\torch\\nn\\functional.py",
                     "C:\\Users\\dev\\miniconda3\\envs\\torch\\Lib\\site-packages\\torch\\_tensor.py",
                     "C:\\Users\\dev\\miniconda3\\envs\\torch\\Lib\\site-packages\\torch\\optim\\adamw.py",
                     "D:\\work\\Projekt \u00e9t\u00e9\\train.py", "D:\\work\\Projekt \u00e9t\u00e9\\model\\attention.py",
                     "D:\\work\\Projekt \u00e9t\u00e9\\model\\mlp.py", "D:\\work\\Projekt \u00e9t\u00e9\\data\\loader.py",
                     "??"]
        names = ["forward", "_call_impl", "_wrapped_call_impl", "linear", "softmax",
                 "scaled_dot_product_attention", "step", "_single_tensor_adamw", "backward",
                 "main", "<module>", "train_step", "__next__", "collate", "gelu", "layer_norm"]
        self.frames = []
        for i in range(args.distinct_frames):
            f = files[r.below(len(files))]
            if f == "??":
                self.frames.append(("??", 0, "c10::cuda::CUDACachingAllocator::malloc(int, unsigned long, CUstream_st*)"))
            else:
                self.frames.append((f, 1 + r.below(2000), names[r.below(len(names))] + ("" if i < len(names) else "_%d" % (i % 97))))
        self.sites = []
        for i in range(args.call_sites):
            depth = args.min_depth + r.below(args.max_depth - args.min_depth + 1)
            self.sites.append([r.below(len(self.frames)) for _ in range(depth)])
        sizes = [512, 1024, 4096, 65536, 262144, 1 << 20, 2 << 20, 4 << 20, 8 << 20, 24 << 20, 64 << 20, 256 << 20]
        self.site_size = [sizes[r.below(len(sizes))] * (1 + r.below(3)) for _ in self.sites]

    def per_device(self):
        a = self.a
        return [a.events // a.devices + (1 if d < a.events % a.devices else 0) for d in range(a.devices)]

    def run(self, emit):
        """Calls emit(device, action, addr, size, stream, t, alloc_serial, site, extra)
        exactly per_device()[d] times for device d, devices in order."""
        a = self.a
        r = Lcg(a.seed + 1)
        per_dev = self.per_device()
        t = 1_700_000_000_000_000
        serial = 0
        for dev in range(a.devices):
            live = []  # [serial, addr, size, site, stream]
            free_addrs = {}
            next_addr = 0x7F0000000000 + dev * 0x10000000000
            n = 0
            pending = None  # free_requested waiting for its free_completed
            target_live = max(4, a.live)
            while n < per_dev[dev]:
                t += 1 + r.below(200)
                if pending is not None and r.below(4) != 0:
                    s, addr, size, site, stream = pending
                    emit(dev, "free_completed", addr, size, stream, t, s, site, None)
                    free_addrs.setdefault(size, []).append(addr)
                    pending = None
                    n += 1
                    continue
                roll = r.below(1000)
                if roll < 2 and n > 10:
                    action = self.ACTIONS_RARE[r.below(len(self.ACTIONS_RARE))]
                    if action == "oom":
                        emit(dev, action, 0, 1 << 30, 0, t, None, r.below(len(self.sites)), 123 << 20)
                    elif action == "snapshot":
                        emit(dev, action, 0, 0, 0, t, None, None, None)
                    else:
                        emit(dev, action, next_addr, 20 << 20, 0, t, None, r.below(len(self.sites)), None)
                        next_addr += 20 << 20
                    n += 1
                    continue
                want_alloc = len(live) < target_live // 2 or (len(live) < 2 * target_live and roll < 520)
                if want_alloc or not live:
                    site = r.below(len(self.sites))
                    size = self.site_size[site]
                    lst = free_addrs.get(size)
                    if lst:
                        addr = lst.pop()
                    else:
                        addr = next_addr
                        next_addr += (size + 511) // 512 * 512
                    stream = 0 if r.below(8) else 7
                    live.append([serial, addr, size, site, stream])
                    emit(dev, "alloc", addr, size, stream, t, serial, site, None)
                    serial += 1
                else:
                    if pending is not None:
                        continue  # finish the pending free first
                    i = r.below(len(live))
                    live[i], live[-1] = live[-1], live[i]
                    entry = live.pop()
                    emit(dev, "free_requested", entry[1], entry[2], entry[4], t, entry[0], entry[3], None)
                    pending = tuple(entry)
                n += 1
            if pending is not None:
                s, addr, size, site, stream = pending
                live.append(list(pending))  # still pending: reported as active_pending_free
            yield dev, live, pending


def write_snapshot(args, out):
    sim = Sim(args)
    # First run: which allocations are still live at the end, per device.
    final_live = {}
    for dev, live, pending in sim.run(lambda *e: None):
        final_live[dev] = (list(live), pending)

    p = PickleStream(out, args.protocol)
    frame_memo = {}  # frame index -> memo index of its dict
    list_memo = {}  # alloc serial -> memo index of its traceback list

    def frame_writer(fi):
        def w():
            m = frame_memo.get(fi)
            if m is not None:
                p.get(m)
                return
            f = sim.frames[fi]
            p.buf += b"}"
            m = p.memoize()
            frame_memo[fi] = m
            p.buf += b"("
            p.str("filename"); p.str(f[0]) if f[0] == "??" else p.str(f[0])
            p.str("line"); p.int(f[1])
            p.str("name"); p.str(f[2])
            if args.variant == "newest" and fi % 5 == 0:
                p.str("fx_node_op"); p.str("call_function")
                p.str("fx_node_name"); p.str("mm_%d" % fi)
                p.str("fx_original_trace"); p.str("  File train.py, line %d" % fi)
            p.buf += b"u"
        return w

    def traceback_writer(serial, site):
        if args.shape == "fresh":
            serial = None  # every event and block gets a list of its own
        def w():
            if serial is not None:
                m = list_memo.get(serial)
                if m is not None:
                    p.get(m)
                    return
            stack = sim.sites[site] if site is not None else []
            m = p.list([frame_writer(fi) for fi in stack])
            if serial is not None:
                list_memo[serial] = m
        return w

    def segments_writer():
        segs = []
        for dev in range(args.devices):
            live, pending = final_live[dev]
            live = sorted(live, key=lambda e: e[1])
            # Group live blocks into 20 MiB-aligned "segments" by address.
            groups = {}
            for e in live:
                groups.setdefault(e[1] >> 26, []).append(e)
            for key in sorted(groups):
                segs.append((dev, key, groups[key], pending))
        out = []
        for dev, key, blocks, pending in segs:
            out.append(lambda dev=dev, key=key, blocks=blocks, pending=pending: write_segment(dev, key, blocks, pending))
        return out

    def write_segment(dev, key, blocks, pending):
        base = key << 26
        used = sum(b[2] for b in blocks)
        end = max(b[1] + b[2] for b in blocks)
        total = max(end - base, used) + (2 << 20)
        items = [("device", lambda: p.int(dev)), ("address", lambda: p.int(base)),
                 ("total_size", lambda: p.int(total)), ("allocated_size", lambda: p.int(used)),
                 ("active_size", lambda: p.int(used)), ("requested_size", lambda: p.int(used)),
                 ("stream", lambda: p.int(0)), ("segment_type", lambda: p.str("large" if total > (1 << 21) else "small")),
                 ("segment_pool_id", lambda: p.tuple2(lambda: p.int(0), lambda: p.int(0))),
                 ("is_expandable", lambda: p.bool(False))]
        if not args.legacy:
            items.append(("frames", lambda: p.list([])))

        def block_list():
            ws = []
            cursor = base
            for b in blocks:
                if b[1] > cursor:  # a free gap before this block
                    gap = b[1] - cursor
                    ws.append(lambda gap=gap, cursor=cursor: write_block(cursor, gap, gap, "inactive", None, None))
                is_pending = pending is not None and b[0] == pending[0]
                state = ("active_awaiting_free" if args.variant == "newest" else "active_pending_free") if is_pending else "active_allocated"
                ws.append(lambda b=b, state=state: write_block(b[1], b[2], b[2], state, b[0], b[3]))
                cursor = b[1] + b[2]
            ws.append(lambda cursor=cursor: write_block(cursor, base + total - cursor, 0, "inactive", None, None))
            return p.list(ws)

        items.append(("blocks", block_list))
        p.dict(items)

    def write_block(addr, size, req, state, serial, site):
        if args.legacy:
            items = [("size", lambda: p.int(size)), ("requested_size", lambda: p.int(req)), ("state", lambda: p.str(state))]
            if serial is not None:
                items.append(("history", lambda: p.list([lambda: p.dict([
                    ("addr", lambda: p.int(addr)), ("real_size", lambda: p.int(size)),
                    ("frames", traceback_writer(serial, site))])])))
            p.dict(items)
            return
        p.dict([("address", lambda: p.int(addr)), ("size", lambda: p.int(size)),
                ("requested_size", lambda: p.int(req)), ("state", lambda: p.str(state)),
                ("frames", traceback_writer(serial, site) if serial is not None else (lambda: p.list([])))])

    top = []
    if args.bare_list:
        p.list(segments_writer())
        p.stop()
        return
    top.append(("segments", lambda: p.list(segments_writer())))

    def traces():
        # The per-device lists are written event by event (never held). The
        # number of events per device is known up front, so each batch of
        # 1000 can open with MARK ... APPENDS, or be a lone item + APPEND,
        # exactly as CPython's batched_appends does.
        per_dev = sim.per_device()
        p.buf += b"]"
        p.memoize()
        if args.devices > 1:
            p.buf += b"("
        state = {"dev": -1, "i": 0}

        def open_device(dev):
            while state["dev"] < dev:
                state["dev"] += 1
                state["i"] = 0
                p.buf += b"]"
                p.memoize()

        def emit(dev, action, addr, size, stream, t, serial, site, extra):
            open_device(dev)
            i = state["i"]
            batch = min(1000, per_dev[dev] - (i - i % 1000))
            if i % 1000 == 0 and batch > 1:
                p.buf += b"("
            write_event(dev, action, addr, size, stream, t, serial, site, extra)
            if i % 1000 == batch - 1:
                p.buf += b"e" if batch > 1 else b"a"
            state["i"] = i + 1
            p.commit()

        for _ in sim.run(emit):
            pass
        open_device(args.devices - 1)
        p.buf += b"e" if args.devices > 1 else b"a"

    def write_event(dev, action, addr, size, stream, t, serial, site, extra):
        items = [("action", lambda: p.str(action)), ("addr", lambda: p.int(addr)),
                 ("size", lambda: p.int(size)), ("stream", lambda: p.int(stream))]
        if not args.no_time:
            items.append(("time_us", lambda: p.int(t)))
        if action == "oom":
            items.append(("device_free", lambda: p.int(extra)))
        if args.variant == "newest":
            items.append(("compile_context", lambda: p.str("N/A")))
            if action == "alloc":
                items.append(("pool_id", lambda: p.tuple2(lambda: p.int(0), lambda: p.int(0))))
                items.append(("user_metadata", lambda: p.str("")))
        if action == "snapshot":
            items.append(("frames", lambda: p.list([])))
        elif action in ("alloc", "free_requested", "free_completed"):
            items.append(("frames", traceback_writer(serial, site)))
        else:
            items.append(("frames", traceback_writer(None, site)))
        if args.variant == "newest" and action == "alloc" and serial is not None and serial % 7 == 0:
            items.append(("forward_frames", traceback_writer(None, site)))
        p.dict(items)

    top.append(("device_traces", traces))
    top.append(("allocator_settings", lambda: p.dict([
        ("PYTORCH_CUDA_ALLOC_CONF", lambda: p.str("")), ("max_split_size", lambda: p.int(-1)),
        ("garbage_collection_threshold", lambda: p.float(0.0)), ("expandable_segments", lambda: p.bool(False))])))

    def annotations():
        ws = []
        for i in range(args.annotations):
            stage = "START" if i % 2 == 0 else "END"
            ws.append(lambda i=i, stage=stage: p.dict([
                ("stage", lambda: p.str(stage)), ("name", lambda: p.str("step_%d" % (i // 2))),
                ("device", lambda: p.int(0)), ("time_us", lambda: p.int(1_700_000_000_000_000 + i * 1000))]))
        p.list(ws)

    top.append(("external_annotations", annotations))
    if args.variant == "newest":
        top.append(("host_segments", lambda: p.list([])))
        top.append(("host_traces", lambda: p.list([])))
        top.append(("memtk_test_unknown_key", lambda: p.dict([("answer", lambda: p.int(1 << 70))])))
    p.dict(top)
    p.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--events", type=int, default=1000, help="trace events in all (default 1000)")
    ap.add_argument("-o", "--output", default="-", help="output file (default stdout)")
    ap.add_argument("--devices", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--protocol", type=int, default=4, choices=(4, 5))
    ap.add_argument("--live", type=int, default=200, help="typical number of live allocations")
    ap.add_argument("--distinct-frames", type=int, default=600)
    ap.add_argument("--call-sites", type=int, default=400)
    ap.add_argument("--min-depth", type=int, default=6)
    ap.add_argument("--max-depth", type=int, default=40)
    ap.add_argument("--annotations", type=int, default=8)
    ap.add_argument("--shape", choices=("fresh", "shared"), default="fresh",
                    help="fresh: a new frame list per event, as PyTorch writes (default); "
                         "shared: one list per allocation, shared by its events")
    ap.add_argument("--paths", choices=("linux", "windows"), default="linux", help="style of the file names")
    ap.add_argument("--legacy", action="store_true", help="PyTorch 2.0 blocks with history, no address")
    ap.add_argument("--variant", choices=("default", "newest"), default="default")
    ap.add_argument("--bare-list", action="store_true", help="write a bare list of segments")
    ap.add_argument("--no-time", action="store_true", help="events without time_us")
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--check", action="store_true", help="load the result with pickle and compare with pickle.dumps")
    args = ap.parse_args()

    bio = io.BytesIO() if args.check or args.output == "-" else None
    target = bio if bio is not None else open(args.output, "wb")
    raw = target
    if args.gzip and bio is None:
        target = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0)
    write_snapshot(args, target)
    if target is not raw:
        target.close()
    if bio is not None:
        data = bio.getvalue()
        if args.check:
            obj = pickle.loads(data)
            again = pickle.dumps(obj, protocol=args.protocol)
            # Frame placement differs (CPython frames by object, we by event);
            # every other opcode and argument must be identical.
            def ops(b):
                return [(o.name, a) for o, a, _ in pickletools.genops(b) if o.name != "FRAME"]
            same = ops(again) == ops(data)
            print("check: %d bytes, pickle.loads ok, identical to pickle.dumps: %s" % (len(data), same), file=sys.stderr)
            if not same:
                sys.exit(1)
        if args.gzip:
            data = gzip.compress(data, mtime=0)
        if args.output == "-":
            sys.stdout.buffer.write(data)
        else:
            with open(args.output, "wb") as f:
                f.write(data)
    elif target is raw:
        raw.close()
    else:
        raw.close()


if __name__ == "__main__":
    main()
