#!/usr/bin/env python3
"""Regenerate the small committed fixtures in data/ (deterministic).

Run from the repository root: python3 scripts/gen_fixtures.py
"""
import csv
import gzip
import json
import os
import pickle
import sqlite3
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data")
GEN = os.path.join(ROOT, "scripts", "gen_snapshot.py")


def gen(name, *args):
    # The fixtures predate gen_snapshot.py's fresh-list default: they keep
    # one list per allocation so the committed files (and goldens) stay put.
    subprocess.check_call([sys.executable, GEN, "--shape", "shared", "-o", os.path.join(DATA, name), *args])


def main():
    os.makedirs(DATA, exist_ok=True)
    for d in ("diff", "diff/runs_base", "diff/runs_new"):
        os.makedirs(os.path.join(DATA, d), exist_ok=True)
    gen("sample.pickle", "-n", "3000", "--devices", "2", "--seed", "3", "--annotations", "6")
    gen("small.pickle", "-n", "300", "--seed", "5", "--live", "20", "--distinct-frames", "40", "--call-sites", "12")
    gen("legacy.pickle", "-n", "200", "--legacy", "--seed", "7", "--live", "10")
    gen("newest.pickle", "-n", "300", "--variant", "newest", "--seed", "9", "--live", "15")
    gen("bare_list.pickle", "-n", "200", "--bare-list", "--seed", "11", "--live", "10")
    gen("no_time.pickle", "-n", "200", "--no-time", "--devices", "3", "--seed", "13", "--live", "10")
    gen("protocol5.pickle", "-n", "200", "--protocol", "5", "--seed", "15", "--live", "10")
    # `memtk diff` pairs (issue #19): the same frames and call sites (same
    # seed), a longer run with more live allocations in NEW, so sites grow,
    # shrink, appear and go; rank directories with a file missing on each side.
    common = ["--seed", "21", "--distinct-frames", "40", "--call-sites", "16"]
    gen("diff/base.pickle", "-n", "400", "--devices", "2", "--live", "20", *common)
    gen("diff/new.pickle", "-n", "480", "--devices", "2", "--live", "26", *common)
    gen("diff/new_3dev.pickle", "-n", "600", "--devices", "3", "--live", "20", *common)
    gen("diff/runs_base/rank0.pickle", "-n", "200", "--live", "12", *common)
    gen("diff/runs_base/rank1.pickle", "-n", "200", "--live", "14", *common)
    gen("diff/runs_base/rank2.pickle", "-n", "200", "--live", "10", *common)
    gen("diff/runs_new/rank0.pickle", "-n", "200", "--live", "12", *common)
    gen("diff/runs_new/rank1.pickle", "-n", "240", "--live", "18", *common)
    gen("diff/runs_new/rank3.pickle", "-n", "200", "--live", "10", *common)
    subprocess.check_call([sys.executable, os.path.join(ROOT, "scripts", "gen_memlog.py"),
                           os.path.join(DATA, "diff", "train_grown.csv"), "--growth", "1500", "--no-log"])
    # Issue #17: short runs with the cpu_percent column: growth per second, a
    # flat run (no growth beyond noise) and one with too few samples.
    for name, args in (("short_ramp.csv", ["--rows", "50", "--ramp", "30"]),
                       ("short_flat.csv", ["--rows", "50", "--ramp", "0"]),
                       ("too_few.csv", ["--rows", "6", "--ramp", "30"])):
        subprocess.check_call([sys.executable, os.path.join(ROOT, "scripts", "gen_memlog.py"),
                               os.path.join(DATA, "memlog", name), "--cpu", *args])
    # The same snapshot as JSON and gzip'd: must give identical databases.
    with open(os.path.join(DATA, "small.pickle"), "rb") as f:
        raw = f.read()
    with open(os.path.join(DATA, "small.json"), "w") as f:
        json.dump(pickle.loads(raw), f, separators=(",", ":"))
    with open(os.path.join(DATA, "small.pickle.gz"), "wb") as f:
        f.write(gzip.compress(raw, mtime=0))
    # A snapshot that is named .json but holds a pickle (detected by content).
    with open(os.path.join(DATA, "pickle_named.json"), "wb") as f:
        f.write(raw)
    # Integers wider than 8 bytes must survive exactly.
    big = {"segments": [], "device_traces": [[{"action": "alloc", "addr": 4096, "size": 512, "stream": 0,
                                              "time_us": 1, "frames": [], "huge": 2**80 + 7,
                                              "negative": -(2**70)}]]}
    with open(os.path.join(DATA, "bigint.pickle"), "wb") as f:
        f.write(pickle.dumps(big, protocol=4))
    # TorchScript's pickler (C++ _memory_snapshot_pickled): protocol 2 with
    # the code-free restore_type_tag global, BINPUT/BINGET memo, OrderedDict.
    with open(os.path.join(DATA, "torchscript_p2.pickle"), "wb") as f:
        f.write(torchscript_like())
    # Hostile: a pickle that would run os.system.
    with open(os.path.join(DATA, "evil.pickle"), "wb") as f:
        f.write(b"\x80\x04\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x04true\x94\x85\x94R\x94.")
    # Hostile: a refused global whose name carries a newline, CR and ESC
    # sequences, so echoing it raw would forge a "memtk convert: ... ->"
    # success line on the terminal (issue #16). Messages must escape it.
    mod, name = b"os\x1b[2K", b"system\nmemtk convert: a.pickle -> a.db: 3 events\r\x1b[K"
    body = (b"\x8c" + bytes([len(mod)]) + mod + b"\x8c" + bytes([len(name)]) + name + b"\x93" +
            b"\x8c\x04true\x85R.")
    with open(os.path.join(DATA, "evil_escape.pickle"), "wb") as f:
        f.write(b"\x80\x04" + body)
    # Frame names and an annotation with ESC, CR and newlines: text reports
    # (stats, query tables) must show them escaped (issue #16).
    evil_frames = [{"filename": "train\x1b[31m.py\r", "line": 7, "name": "step\nmemtk stats: all good"}]
    ctl = {"segments": [{"device": 0, "address": 1 << 20, "total_size": 2 << 20, "allocated_size": 4096,
                         "active_size": 4096, "requested_size": 4000, "stream": 0, "segment_type": "large\x07",
                         "segment_pool_id": [0, 0], "is_expandable": False, "frames": evil_frames,
                         "blocks": [{"address": 1 << 20, "size": 4096, "requested_size": 4000,
                                     "state": "active_allocated", "frames": evil_frames},
                                    {"address": (1 << 20) + 4096, "size": (2 << 20) - 4096, "requested_size": 0,
                                     "state": "inactive", "frames": []}]}],
           "device_traces": [[{"action": "alloc", "addr": 1 << 20, "size": 4096, "stream": 0, "time_us": 10,
                               "frames": evil_frames}]],
           "external_annotations": [{"device": 0, "stage": "START", "name": "epoch\r\x1b[2K1", "time_us": 5}]}
    with open(os.path.join(DATA, "control_chars.pickle"), "wb") as f:
        f.write(pickle.dumps(ctl, protocol=4))
    # train.log.csv with coloured, carriage-returned lines (as progress bars
    # and loggers print them): `stats` must show them escaped (issue #16).
    with open(os.path.join(DATA, "memlog", "train.log.csv"), newline="") as f:
        rows = list(csv.reader(f))
    with open(os.path.join(DATA, "memlog", "control.log.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(rows[0])
        for r in rows[1:]:
            w.writerow(r[:4] + ["\x1b[32m" + r[4] + "\x1b[0m\r"])
    with open(os.path.join(DATA, "truncated.pickle"), "wb") as f:
        f.write(raw[:1000])
    with open(os.path.join(DATA, "empty.pickle"), "wb") as f:
        pass
    with open(os.path.join(DATA, "not_a_snapshot.txt"), "w") as f:
        f.write("hello, this is not a snapshot\n")
    # An SQLite database some other program wrote: stats/query must say so.
    foreign = os.path.join(DATA, "foreign.db")
    if os.path.exists(foreign):
        os.remove(foreign)
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE measurements(id INTEGER PRIMARY KEY, value REAL)")
    db.execute("INSERT INTO measurements VALUES (1, 2.5)")
    db.commit()
    db.close()
    with open(os.path.join(DATA, "bad.json"), "w") as f:
        f.write('{"segments": [\n  {"device": 0,\n   "address": 12 34}\n]}\n')
    # Issue #16: hand-made snapshots whose answers the tests state exactly.
    for name, snap in (("starts_with_frees.pickle", starts_with_frees()), ("expandable.pickle", expandable()),
                       ("no_data.pickle", {"segments": [], "device_traces": [[]],
                                           "allocator_settings": {"expandable_segments": False},
                                           "external_annotations": []}),
                       ("huge_sizes.pickle", huge_sizes()), ("ooms.pickle", ooms()),
                       ("attribution.pickle", attribution())):
        with open(os.path.join(DATA, name), "wb") as f:
            f.write(pickle.dumps(snap, protocol=4))


MIB = 1 << 20


def frames(line, name):
    return [{"filename": "train.py", "line": line, "name": name}]


def event(action, addr, size, t, line=0, name="", **extra):
    e = {"action": action, "addr": addr, "size": size, "stream": 0, "time_us": t,
         "frames": frames(line, name) if line else []}
    e.update(extra)
    return e


def block(addr, size, requested, state, line=0, name=""):
    return {"address": addr, "size": size, "requested_size": requested, "state": state,
            "frames": frames(line, name) if line else []}


def segment(addr, total, blocks, expandable=False):
    used = sum(b["size"] for b in blocks if b["state"] != "inactive")
    return {"device": 0, "address": addr, "total_size": total, "allocated_size": used, "active_size": used,
            "requested_size": sum(b["requested_size"] for b in blocks if b["state"] != "inactive"),
            "stream": 0, "segment_type": "large", "segment_pool_id": (0, 0), "is_expandable": expandable,
            "frames": [], "blocks": blocks}


def starts_with_frees():
    """The trace opens with frees of memory from before recording, so the
    most memory is held at the start (before any action):
      active timeline: untraced blocks A (2,000,000) + B (1,000,000) and
        P (6 MiB, freed at events 1-2) = 9,291,456 B, 3 live; after the
        first free 3,000,000; the trace then rises to 3,000,000 + 2.5 MiB.
      segments view: the very first event (index 0) releases S3 (14 MiB,
        an empty cached segment); S1 (8 MiB, live throughout) + S2 (20 MiB,
        freed at event 3) + S3 = 42 MiB at the start, 28 after event 0,
        8 after event 3.
    Annotations: one pair inside the trace, one START after its last event
    (drawn at the right edge)."""
    s1, s2, s3 = 0x7F0000000000, 0x7F0002000000, 0x7F0004000000
    t0 = 1_700_000_000_000_000
    trace = [
        event("segment_free", s3, 14 * MIB, t0 - 5),
        event("free_requested", s2, 6 * MIB, t0, 30, "load"),
        event("free_completed", s2, 6 * MIB, t0 + 10, 30, "load"),
        event("segment_free", s2, 20 * MIB, t0 + 20),
        event("alloc", s1 + 3 * MIB, 1 * MIB, t0 + 30, 41, "forward"),
        event("alloc", s1 + 4 * MIB, 2 * MIB, t0 + 40, 42, "backward"),
        event("free_requested", s1 + 3 * MIB, 1 * MIB, t0 + 50, 41, "forward"),
        event("free_completed", s1 + 3 * MIB, 1 * MIB, t0 + 60, 41, "forward"),
        event("alloc", s1 + 6 * MIB, MIB // 2, t0 + 70, 43, "step"),
    ]
    blocks = [block(s1, 2 * MIB, 2_000_000, "active_allocated", 10, "init"),
              block(s1 + 2 * MIB, 1 * MIB, 1_000_000, "active_allocated", 11, "init"),
              block(s1 + 3 * MIB, 1 * MIB, 1 * MIB, "inactive"),
              block(s1 + 4 * MIB, 2 * MIB, 2 * MIB, "active_allocated", 42, "backward"),
              block(s1 + 6 * MIB, MIB // 2, MIB // 2, "active_allocated", 43, "step"),
              block(s1 + 6 * MIB + MIB // 2, 3 * MIB // 2, 0, "inactive")]
    annotations = [{"stage": "START", "name": "epoch", "device": 0, "time_us": t0 + 25},
                   {"stage": "END", "name": "epoch", "device": 0, "time_us": t0 + 65},
                   {"stage": "START", "name": "eval", "device": 0, "time_us": t0 + 500}]
    return {"segments": [segment(s1, 8 * MIB, blocks)], "device_traces": [trace],
            "allocator_settings": {"expandable_segments": False}, "external_annotations": annotations}


def expandable():
    """PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True: one segment grows by
    segment_map and shrinks by segment_unmap; no segment_alloc at all.
    Reserved bytes after each map/unmap (event index):
      start 4 MiB (mapped before recording, unmapped at event 8)
      0 map 20 MiB -> 24; 3 map 40 MiB -> 64 (the peak, 64 MiB);
      6 unmap 30 MiB (the top 10 of the first map and the first 20 of the
      second) -> 34; 8 unmap 4 MiB from before recording -> 30;
      10 map 10 MiB -> 40 (joins the rest of the second map).
    At the end two segments: [base, base+10 MiB) and [base+40, base+70 MiB)."""
    base = 0x7E0000000000
    pre = base - 4 * MIB  # mapped before recording, unmapped in the trace
    t0 = 1_700_000_000_000_000
    trace = [
        event("segment_map", base, 20 * MIB, t0, 50, "build"),
        event("alloc", base, 8 * MIB, t0 + 1, 51, "weights"),
        event("alloc", base + 8 * MIB, 2 * MIB, t0 + 2, 52, "bias"),
        event("segment_map", base + 20 * MIB, 40 * MIB, t0 + 3, 53, "activations"),
        event("alloc", base + 20 * MIB, 40 * MIB, t0 + 4, 53, "activations"),
        event("free_completed", base + 20 * MIB, 40 * MIB, t0 + 5, 53, "activations"),
        event("segment_unmap", base + 10 * MIB, 30 * MIB, t0 + 6),
        event("free_completed", base + 8 * MIB, 2 * MIB, t0 + 7, 52, "bias"),
        event("segment_unmap", pre, 4 * MIB, t0 + 8),
        event("alloc", base + 8 * MIB, 1 * MIB, t0 + 9, 54, "head"),
        event("segment_map", base + 60 * MIB, 10 * MIB, t0 + 10, 55, "grow"),
    ]
    head = segment(base, 10 * MIB, [block(base, 8 * MIB, 8 * MIB, "active_allocated", 51, "weights"),
                                    block(base + 8 * MIB, 1 * MIB, 1 * MIB, "active_allocated", 54, "head"),
                                    block(base + 9 * MIB, 1 * MIB, 0, "inactive")], expandable=True)
    tail = segment(base + 40 * MIB, 30 * MIB, [block(base + 40 * MIB, 30 * MIB, 0, "inactive")], expandable=True)
    return {"segments": [head, tail], "device_traces": [trace],
            "allocator_settings": {"expandable_segments": True}, "external_annotations": []}


def ooms():
    """Issue #17: five OOMs on two devices, whose live sets the tests state.
    Device 0 (ids 0-11), device 1 (ids 12-15); in time order (stats' and
    query --at-oom's numbering):
      OOM 1 d1:1 (id 13, t0+15): D 32 MiB                         = 32 MiB, 1
      OOM 2 d0:2 (id 2, t0+20):  A 4 + B 8 + P 2 (from before
            recording, freed at d0:5) + K 1 (untraced block)     = 15 MiB, 4
      OOM 3 d1:3 (id 15, t0+35): D 32 (replaced at its address by
            E: live to the end, as in the viewer) + E 8          = 40 MiB, 2
      OOM 4 d0:7 (id 7, t0+70):  A 4 + C 16 + K 1                = 21 MiB, 3
      OOM 5 d0:9 (id 9, t0+90):  the same                        = 21 MiB, 3
    Three snapshot events, three annotations and three segments with free
    memory on device 0, so `--top 2` shows "… 1 more" in each list. OOM 3
    carries the frames of the request that failed (train.py:52:attention),
    the others none, as in snapshots recorded without them; its stack comes
    last, so the other stacks keep their ids."""
    t0 = 1_700_000_000_000_000
    s0, s1 = 0x7F0000000000, 0x7F1000000000
    a, k, c = s0, s0 + 4 * MIB, s0 + 5 * MIB
    b, p = 0x7F0008000000, 0x7F0009000000
    dev0 = [
        event("alloc", a, 4 * MIB, t0, 10, "weights"),
        event("alloc", b, 8 * MIB, t0 + 10, 20, "activations"),
        event("oom", 0, 64 * MIB, t0 + 20, device_free=1 * MIB),
        event("free_requested", b, 8 * MIB, t0 + 30, 20, "activations"),
        event("free_completed", b, 8 * MIB, t0 + 40, 20, "activations"),
        event("free_completed", p, 2 * MIB, t0 + 50, 30, "cache"),
        event("alloc", c, 16 * MIB, t0 + 60, 40, "logits"),
        event("oom", 0, 32 * MIB, t0 + 70, device_free=2 * MIB),
        event("snapshot", 0, 0, t0 + 80),
        event("oom", 0, 128 * MIB, t0 + 90, device_free=0),
        event("snapshot", 0, 0, t0 + 100),
        event("snapshot", 0, 0, t0 + 110),
    ]
    dev1 = [
        event("alloc", s1, 32 * MIB, t0 + 5, 50, "embed"),
        event("oom", 0, 48 * MIB, t0 + 15, device_free=3 * MIB),
        event("alloc", s1, 8 * MIB, t0 + 25, 51, "embed2"),
        event("oom", 0, 16 * MIB, t0 + 35, 52, "attention", device_free=3 * MIB),
    ]
    seg0 = segment(s0, 32 * MIB, [block(a, 4 * MIB, 4 * MIB, "active_allocated", 10, "weights"),
                                  block(k, 1 * MIB, 1 * MIB, "active_allocated", 5, "init"),
                                  block(c, 16 * MIB, 16 * MIB, "active_allocated", 40, "logits"),
                                  block(s0 + 21 * MIB, 11 * MIB, 0, "inactive")])
    seg0b = segment(s0 + 32 * MIB, 4 * MIB, [block(s0 + 32 * MIB, 4 * MIB, 0, "inactive")])
    seg0c = segment(s0 + 36 * MIB, 2 * MIB, [block(s0 + 36 * MIB, 2 * MIB, 0, "inactive")])
    seg1 = segment(s1, 64 * MIB, [block(s1, 8 * MIB, 8 * MIB, "active_allocated", 51, "embed2"),
                                  block(s1 + 8 * MIB, 56 * MIB, 0, "inactive")])
    seg1["device"] = 1
    annotations = [{"stage": "START", "name": "step %d" % i, "device": 0, "time_us": t0 + 30 * i} for i in range(3)]
    return {"segments": [seg0, seg0b, seg0c, seg1], "device_traces": [dev0, dev1],
            "allocator_settings": {"expandable_segments": False}, "external_annotations": annotations}


def attribution():
    """Issue #18: whose memory is it. Stacks copied (shortened) from the real
    snapshots in ../shared/data/snapshots, allocations sized so the answers
    are plain (device 0):
      relu   (Constructor-Sun, DataParallel worker) 4 x 96 MiB: models.py:181
             calls torch/nn/functional.py:1701:relu (today's rule said relu)
      getitem (Constructor-Sun) 2 x 64 MiB: models.py:174 calls an operator's
             C++ binding directly
      deepcopy (ZidongLiu__DeComFL, Windows paths) 48 MiB: client.py:185
      compiled (kkaitlyn111, torch.compile/inductor) 32 MiB: transformer.py:22
      autograd (Da1sypetals__tomi, C++ only) 16 MiB: no user frame
    All live at the end; the peak is their sum, 608 MiB."""
    site = "/home/haoyangsun/anaconda3/envs/gnn/lib/python3.11/site-packages/torch/nn/"
    def f(filename, line, name):
        return {"filename": filename, "line": line, "name": name}
    alloc_head = [f("??", 0, "torch::unwind::unwind()"),
                  f("??", 0, "torch::CapturedTraceback::gather(bool, bool, bool)"),
                  f("memory_snapshot.cpp", 0, "torch::cuda::(anonymous namespace)::gather_with_cpp()"),
                  f("CUDACachingAllocator.cpp", 0, "c10::cuda::CUDACachingAllocator::Native::"
                    "DeviceCachingAllocator::malloc(signed char, unsigned long, CUstream_st*)"),
                  f("", 0, "c10::cuda::CUDACachingAllocator::Native::NativeCachingAllocator::allocate(unsigned long)"),
                  f("??", 0, "at::detail::empty_cuda(c10::ArrayRef<long>, c10::TensorOptions const&)")]
    worker = [f("", 0, "thread_run"), f("", 0, "pythread_wrapper"),
              f("/build/glibc-B3wQXB/glibc-2.31/nptl/pthread_create.c", 477, "start_thread"), f("??", 0, "clone"),
              f(site + "parallel/parallel_apply.py", 99, "_worker"),
              f("/home/haoyangsun/anaconda3/envs/gnn/lib/python3.11/threading.py", 982, "run")]
    models = "/mnt/data3/haoyangsun/CurProject/src/train/models.py"
    relu = alloc_head + [
        f("RegisterCUDA_0.cpp", 0, "at::(anonymous namespace)::wrapper_CUDA_clamp_min(at::Tensor const&, "
          "c10::Scalar const&)"),
        f("??", 0, "at::_ops::relu::call(at::Tensor const&)"),
        f("python_torch_functions_2.cpp", 0, "torch::autograd::THPVariable_relu(_object*, _object*, _object*)"),
        f("", 0, "cfunction_call"), f("", 0, "_PyObject_MakeTpCall.localalias"),
        f(site + "functional.py", 1701, "relu"), f("??", 0, "_PyEval_EvalFrameDefault"),
        f(models, 181, "update_nodes"), f("??", 0, "_PyEval_EvalFrameDefault"), f(models, 231, "forward"),
        f(site + "modules/module.py", 1784, "_call_impl")] + worker
    getitem = alloc_head + [
        f("??", 0, "at::_ops::index_Tensor::call(at::Tensor const&, c10::List<std::optional<at::Tensor> > const&)"),
        f("", 0, "torch::autograd::THPVariable_getitem(_object*, _object*)"),
        f("??", 0, "_PyEval_EvalFrameDefault"), f(models, 174, "update_nodes"),
        f(models, 231, "forward"), f(site + "modules/module.py", 1784, "_call_impl")] + worker
    win = "C:\\research\\DeComFL\\"
    deepcopy = [f(win + ".venv\\lib\\site-packages\\torch\\storage.py", 257, "clone"),
                f(win + ".venv\\lib\\site-packages\\torch\\storage.py", 243, "__deepcopy__"),
                f("C:\\Users\\Zidong\\AppData\\Roaming\\uv\\python\\cpython-3.10.19-windows-x86_64-none"
                  "\\lib\\copy.py", 153, "deepcopy"),
                f(win + ".venv\\lib\\site-packages\\torch\\_tensor.py", 178, "__deepcopy__"),
                f(win + "cezo_fl\\client.py", 185, "screenshot"), f(win + "decomfl_main.py", 197, "<module>")]
    env = "/scratch/c-kaitwang/uv-envs/cs336-a2-systems/lib/python3.13/site-packages/torch/"
    compiled = alloc_head + [
        f("guards.cpp", 0, "torch::dynamo::(anonymous namespace)::_empty_strided_device(_object*, _object*, "
          "c10::DeviceType) [clone .isra.0]"),
        f("??", 0, "cfunction_call"),
        f("/tmp/torchinductor_c-kaitwang/l4/cl4iffgos7ugqf5f7xvaniiodgzks2swhte7zeap3b42mjosyxo5.py", 1916, "call"),
        f("/home/c-kaitwang/assignment1/cs336_basics/transformer.py", 22, "forward"),
        f("eval_frame.c", 0, "dynamo_custom_eval_frame_shim"),
        f(env + "_functorch/_aot_autograd/runtime_wrappers.py", 310, "runtime_wrapper"),
        f(env + "_dynamo/eval_frame.py", 745, "_fn"),
        f("/home/c-kaitwang/assignment2/cs336-a2-systems/cs336_systems/benchmark.py", 457, "<module>")]
    autograd = alloc_head + [
        f("Blas.cpp", 0, "at::native::(anonymous namespace)::addmm_out_cuda_impl(at::Tensor&, at::Tensor const&)"),
        f("??", 0, "at::_ops::mm::call(at::Tensor const&, at::Tensor const&)"),
        f("??", 0, "torch::autograd::generated::AddmmBackward0::apply(std::vector<at::Tensor, "
          "std::allocator<at::Tensor> >&&)"),
        f("??", 0, "torch::autograd::Engine::thread_main(std::shared_ptr<torch::autograd::GraphTask> const&)"),
        f("??", 0, "pthread_condattr_setpshared"), f("??", 0, "__xmknodat")]
    base, t0 = 0x7F0000000000, 1_700_000_000_000_000
    trace, addr = [], base
    for size, stack in ([[96 * MIB, relu]] * 4 + [[64 * MIB, getitem]] * 2 +
                        [[48 * MIB, deepcopy], [32 * MIB, compiled], [16 * MIB, autograd]]):
        trace.append({"action": "alloc", "addr": addr, "size": size, "stream": 0, "time_us": t0 + len(trace),
                      "frames": stack})
        addr += size
    total = addr - base
    blocks, a = [], base
    for e in trace:
        blocks.append({"address": a, "size": e["size"], "requested_size": e["size"], "state": "active_allocated",
                       "frames": e["frames"]})
        a += e["size"]
    seg = {"device": 0, "address": base, "total_size": total, "allocated_size": total, "active_size": total,
           "requested_size": total, "stream": 0, "segment_type": "large", "segment_pool_id": (0, 0),
           "is_expandable": False, "frames": [], "blocks": blocks}
    return {"segments": [seg], "device_traces": [trace], "allocator_settings": {"expandable_segments": False},
            "external_annotations": []}


def huge_sizes():
    """Sizes no allocator can hand out (INT64_MAX, negative): every command
    must give one clear line, never overflow."""
    t0 = 1_700_000_000_000_000
    big = 2**63 - 1
    trace = [event("alloc", 0x1000, big, t0, 60, "huge"),
             event("alloc", 0x2000, big, t0 + 1, 61, "huge2"),
             event("alloc", 0x3000, -4096, t0 + 2, 62, "negative")]
    return {"segments": [], "device_traces": [trace], "allocator_settings": {}, "external_annotations": []}


def torchscript_like():
    """Protocol 2 opcodes the way torch/csrc/jit/serialization/pickler.cpp
    writes a generic dict: GLOBAL restore_type_tag, EMPTY_DICT, BINPUT, MARK,
    items, SETITEMS, type string, TUPLE2, REDUCE."""
    out = bytearray(b"\x80\x02")
    memo = [0]

    def put():
        out.extend(b"q" + bytes([memo[0]]))
        memo[0] += 1
        return memo[0] - 1

    strings = {}

    def s(x):
        if x in strings:
            out.extend(b"h" + bytes([strings[x]]))
            return
        b = x.encode()
        out.extend(b"X" + struct.pack("<I", len(b)) + b)
        strings[x] = put()

    tag = [None]

    def restore_tag():
        if tag[0] is None:
            out.extend(b"ctorch.jit._pickle\nrestore_type_tag\n")
            tag[0] = put()
        else:
            out.extend(b"h" + bytes([tag[0]]))

    def typed_dict(items):
        restore_tag()
        out.extend(b"}")
        put()
        out.extend(b"(")
        for k, writer in items:
            s(k)
            writer()
        out.extend(b"u")
        s("Dict[str, Any]")
        out.extend(b"\x86R")

    def i(v):
        out.extend(b"J" + struct.pack("<i", v) if -2**31 <= v < 2**31 else b"\x8a\x08" + struct.pack("<q", v))

    def lst(writers):
        out.extend(b"]")
        put()
        if writers:
            out.extend(b"(")
            for w in writers:
                w()
            out.extend(b"e")

    frame = lambda: typed_dict([("filename", lambda: s("train.py")), ("line", lambda: i(12)), ("name", lambda: s("step"))])
    frames_idx = []

    def frames():
        if frames_idx:
            out.extend(b"h" + bytes([frames_idx[0]]))
            return
        lst([frame])
        frames_idx.append(memo[0] - 1 - 0)

    def event(action, addr, size, t):
        return lambda: typed_dict([("action", lambda: s(action)), ("addr", lambda: i(addr)), ("size", lambda: i(size)),
                                   ("stream", lambda: i(0)), ("time_us", lambda: i(t)), ("frames", lst_frames)])

    def lst_frames():
        lst([frame])

    segment = lambda: typed_dict([("device", lambda: i(0)), ("address", lambda: i(1 << 33)),
                                  ("total_size", lambda: i(2 << 20)), ("allocated_size", lambda: i(1024)),
                                  ("active_size", lambda: i(1024)), ("requested_size", lambda: i(1000)),
                                  ("stream", lambda: i(0)), ("segment_type", lambda: s("small")),
                                  ("blocks", lambda: lst([lambda: typed_dict([("address", lambda: i(1 << 33)),
                                                                              ("size", lambda: i(1024)),
                                                                              ("requested_size", lambda: i(1000)),
                                                                              ("state", lambda: s("active_allocated")),
                                                                              ("frames", lst_frames)])]))])
    ordered = lambda: (out.extend(b"ccollections\nOrderedDict\n"), put(), out.extend(b")R"), put(),
                       out.extend(b"("), s("PYTORCH_CUDA_ALLOC_CONF"), s(""), out.extend(b"u"))
    typed_dict([
        ("segments", lambda: lst([segment])),
        ("device_traces", lambda: lst([lambda: lst([event("alloc", 1 << 33, 1024, 10), event("free_requested", 1 << 33, 1024, 20),
                                                    event("free_completed", 1 << 33, 1024, 30), event("alloc", 1 << 33, 1024, 40)])])),
        ("allocator_settings", ordered),
    ])
    out.extend(b".")
    return bytes(out)


if __name__ == "__main__":
    main()
