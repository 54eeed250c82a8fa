#!/usr/bin/env python3
"""Where outputs go, from the command line: what `-o` may never do.

1. Replace what the run reads. `stats X -o X`, `render-png X -o X`,
   `diff A B -o A` (and `-o B`), `query X.db --at-peak -o X.db` used to
   exit 0 with the input replaced by the report; now every command refuses
   with "memtk CMD: OUT: the output would overwrite the input", exit 2, and
   leaves the input byte for byte as it was. Covered: the same name, "./"
   spellings, hard and symbolic links, a memlog CSV and its log CSV
   (NAME.log.csv, or --log), one of several `stats` inputs, a file of a
   directory `diff` or `stats` reads, and `-o DIR/` whose computed name is
   an input (`query run.json --format json -o ./`). The inputs are corrupt
   copies where that proves the refusal comes before any read: a read would
   fail with exit 1 instead.
2. Write two inputs into one file: `render-png dA/cs.pickle dB/cs.pickle -o
   out/` drew one PNG over the other; it is refused as convert refuses it,
   before anything is drawn or made.
3. Fail on missing parents: `-o DIR/` makes them (mkdir -p) in convert,
   stats, render-png, diff and query (the README's CI recipe converts into
   `mem/new/` with no `mem/`); a file in the way is exit 1 with the reason,
   in the same words everywhere.
4. memlog: -o, --log and --plot naming one file are refused (exit 2), and
   nothing is recorded.

usage: output_paths_cli.py MEMTK
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(memtk, args, cwd):
    return subprocess.run([memtk, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tree(d):
    """Every file and folder under d (relative), with each file's hash."""
    out = {}
    for dirpath, dirs, files in os.walk(d):
        for x in dirs:
            out[os.path.relpath(os.path.join(dirpath, x), d) + "/"] = None
        for x in files:
            p = os.path.join(dirpath, x)
            out[os.path.relpath(p, d)] = None if os.path.islink(p) else digest(p)
    return out


def usage_hint(cmd):
    """The line every usage error ends with."""
    return "Run 'memtk %s --help' for usage.\n" % cmd


def refused(memtk, cwd, args, out, cmd=None):
    """ARGS must exit 2 with the one overwrite line for OUT, and leave CWD as it was."""
    cmd = cmd or args[0]
    before = tree(cwd)
    p = run(memtk, args, cwd)
    want = "memtk %s: %s: the output would overwrite the input\n%s" % (cmd, out, usage_hint(cmd))
    check(p.returncode == 2 and p.stderr == want,
          "%s: expected exit 2 and %r, got %d %r" % (" ".join(args), want, p.returncode, p.stderr))
    check(tree(cwd) == before, "%s: changed the folder: %s" % (" ".join(args), sorted(set(tree(cwd)) ^ set(before))))


def overwrite_refusals(memtk, tmp):
    d = os.path.join(tmp, "over")
    os.makedirs(d)
    shutil.copy(os.path.join(DATA, "sample.pickle"), os.path.join(d, "v.pickle"))
    shutil.copy(os.path.join(DATA, "sample.pickle"), os.path.join(d, "w.pickle"))
    # Corrupt inputs: reading either fails (exit 1), so exit 2 shows the
    # check came first.
    shutil.copy(os.path.join(DATA, "truncated.pickle"), os.path.join(d, "bad.pickle"))
    shutil.copy(os.path.join(DATA, "small.json"), os.path.join(d, "s.json"))
    shutil.copy(os.path.join(DATA, "memlog", "train.csv"), os.path.join(d, "t.csv"))
    shutil.copy(os.path.join(DATA, "memlog", "train.log.csv"), os.path.join(d, "t.log.csv"))
    shutil.copy(os.path.join(DATA, "memlog", "train.csv"), os.path.join(d, "u.csv"))
    shutil.copy(os.path.join(DATA, "memlog", "train.log.csv"), os.path.join(d, "other.log.csv"))
    os.link(os.path.join(d, "bad.pickle"), os.path.join(d, "hard.pickle"))
    os.symlink("bad.pickle", os.path.join(d, "soft.pickle"))
    p = run(memtk, ["convert", "-q", "v.pickle", "-o", "v.db"], d)
    check(p.returncode == 0, "convert v.pickle: %d %s" % (p.returncode, p.stderr))
    for args, out in [
        (["stats", "bad.pickle", "-o", "bad.pickle"], "bad.pickle"),
        (["stats", "bad.pickle", "--json", "-o", "./bad.pickle"], "./bad.pickle"),
        (["stats", "bad.pickle", "-o", "hard.pickle"], "hard.pickle"),
        (["stats", "soft.pickle", "-o", "bad.pickle"], "bad.pickle"),
        (["stats", "bad.pickle", "-o", "soft.pickle"], "soft.pickle"),
        (["stats", "v.pickle", "bad.pickle", "-o", "bad.pickle"], "bad.pickle"),
        (["stats", "t.csv", "-o", "t.csv"], "t.csv"),
        (["stats", "t.csv", "-o", "t.log.csv"], "t.log.csv"),
        (["stats", "u.csv", "--log", "other.log.csv", "-o", "other.log.csv"], "other.log.csv"),
        (["render-png", "bad.pickle", "-o", "bad.pickle"], "bad.pickle"),
        (["render-png", "hard.pickle", "-o", "bad.pickle"], "bad.pickle"),
        (["render-png", "t.csv", "-o", "t.csv"], "t.csv"),
        (["render-png", "t.csv", "-o", "t.log.csv"], "t.log.csv"),
        (["render-png", "u.csv", "--log", "other.log.csv", "-o", "other.log.csv"], "other.log.csv"),
        (["diff", "bad.pickle", "v.pickle", "-o", "bad.pickle"], "bad.pickle"),
        (["diff", "v.pickle", "bad.pickle", "-o", "bad.pickle"], "bad.pickle"),
        (["diff", "t.csv", "u.csv", "-o", "t.log.csv"], "t.log.csv"),
        (["query", "v.db", "--at-peak", "-o", "v.db"], "v.db"),
        (["query", "s.json", "--at-peak", "--format", "json", "-o", "./"], "./s.json"),
        (["convert", "bad.pickle", "-o", "hard.pickle"], "hard.pickle"),
    ]:
        refused(memtk, d, args, out)
    # Directories: a file diff or stats reads in one.
    for side in ("a", "b"):
        os.makedirs(os.path.join(d, side))
        shutil.copy(os.path.join(DATA, "truncated.pickle"), os.path.join(d, side, "rank0.pickle"))
    refused(memtk, d, ["diff", "a", "b", "-o", "b/rank0.pickle"], "b/rank0.pickle")
    refused(memtk, d, ["stats", "a", "-o", "a/rank0.pickle"], "a/rank0.pickle")
    # stdin: the file it was redirected from.
    with open(os.path.join(d, "bad.pickle"), "rb") as f:
        p = subprocess.run([memtk, "stats", "-", "-o", "bad.pickle"], stdin=f, capture_output=True, text=True, cwd=d)
    check(p.returncode == 2 and
          p.stderr == "memtk stats: bad.pickle: the output would overwrite the input\n" + usage_hint("stats"),
          "stats - < bad.pickle -o bad.pickle: %d %r" % (p.returncode, p.stderr))
    check(digest(os.path.join(d, "bad.pickle")) == digest(os.path.join(DATA, "truncated.pickle")),
          "bad.pickle changed")
    # What is not an input is still written.
    p = run(memtk, ["stats", "v.pickle", "-o", "v.stats.txt"], d)
    check(p.returncode == 0 and os.path.getsize(os.path.join(d, "v.stats.txt")) > 0,
          "stats -o v.stats.txt: %d %s" % (p.returncode, p.stderr))


def shared_outputs(memtk, tmp):
    d = os.path.join(tmp, "shared")
    for side in ("dA", "dB"):
        os.makedirs(os.path.join(d, side))
        shutil.copy(os.path.join(DATA, "sample.pickle"), os.path.join(d, side, "cs.pickle"))
    shutil.copy(os.path.join(DATA, "sample.pickle"), os.path.join(d, "a.pickle"))
    shutil.copy(os.path.join(DATA, "small.json"), os.path.join(d, "a.json"))
    for args, out in [(["render-png", "dA/cs.pickle", "dB/cs.pickle", "-o", "out/"], "out/cs.png"),
                      (["render-png", "a.pickle", "a.json"], "a.png"),
                      (["convert", "dA/cs.pickle", "dB/cs.pickle", "-o", "out/"], "out/cs.db")]:
        before = tree(d)
        p = run(memtk, args, d)
        want = "memtk %s: two inputs would both be written to %s\n%s" % (args[0], out, usage_hint(args[0]))
        check(p.returncode == 2 and p.stderr == want,
              "%s: expected exit 2 and %r, got %d %r" % (" ".join(args), want, p.returncode, p.stderr))
        check(tree(d) == before, "%s: changed the folder" % " ".join(args))


def parents_made(memtk, tmp):
    d = os.path.join(tmp, "parents")
    os.makedirs(d)
    shutil.copy(os.path.join(DATA, "sample.pickle"), os.path.join(d, "a.pickle"))
    shutil.copy(os.path.join(DATA, "small.pickle"), os.path.join(d, "b.pickle"))
    # The README's CI recipe: mem/ does not exist.
    for args, made in [
        (["convert", "-q", "-j", "2", "a.pickle", "b.pickle", "-o", "mem/new/"], ["mem/new/a.db", "mem/new/b.db"]),
        (["convert", "-q", "a.pickle", "-o", "c1/x/y/"], ["c1/x/y/a.db"]),
        (["stats", "a.pickle", "-o", "s/x/y/"], ["s/x/y/a.stats.txt"]),
        (["stats", "a.pickle", "b.pickle", "--json", "-o", "m/x/"], ["m/x/stats.stats.json"]),
        (["render-png", "-q", "a.pickle", "b.pickle", "-o", "r/x/y/"], ["r/x/y/a.png", "r/x/y/b.png"]),
        (["diff", "a.pickle", "b.pickle", "--format", "markdown", "-o", "d/x/"], ["d/x/b.diff.md"]),
        (["query", "--no-cache", "a.pickle", "--at-peak", "-o", "q/x/"], ["q/x/a.csv"]),
    ]:
        p = run(memtk, args, d)
        check(p.returncode == 0, "%s: exit %d %s" % (" ".join(args), p.returncode, p.stderr))
        for f in made:
            check(os.path.isfile(os.path.join(d, f)) and os.path.getsize(os.path.join(d, f)) > 0,
                  "%s: %s not written" % (" ".join(args), f))
    # A failed run takes back the folders it made (and only those).
    shutil.copy(os.path.join(DATA, "truncated.pickle"), os.path.join(d, "bad.pickle"))
    for args in (["convert", "-q", "bad.pickle", "-o", "gone/x/"], ["stats", "bad.pickle", "-o", "gone/x/"],
                 ["render-png", "bad.pickle", "-o", "gone/x/"]):
        p = run(memtk, args, d)
        check(p.returncode == 1 and not os.path.exists(os.path.join(d, "gone")),
              "%s: exit %d, gone/ %s" % (" ".join(args), p.returncode, os.path.exists(os.path.join(d, "gone"))))
    # A file in the way: exit 1 and the reason, the same words in every command.
    open(os.path.join(d, "afile"), "w").close()
    for args in (["convert", "a.pickle", "-o", "afile/"], ["convert", "a.pickle", "b.pickle", "-o", "afile/"],
                 ["stats", "a.pickle", "-o", "afile/"], ["render-png", "a.pickle", "-o", "afile/"],
                 ["diff", "a.pickle", "b.pickle", "-o", "afile/"], ["query", "a.pickle", "--at-peak", "-o", "afile/"]):
        p = run(memtk, args, d)
        want = "memtk %s: afile: cannot create directory: File exists\n" % args[0]
        check(p.returncode == 1 and p.stderr == want,
              "%s: expected exit 1 and %r, got %d %r" % (" ".join(args), want, p.returncode, p.stderr))
    for args in (["convert", "a.pickle", "-o", "afile/x/"], ["stats", "a.pickle", "-o", "afile/x/"],
                 ["render-png", "a.pickle", "-o", "afile/x/"]):
        p = run(memtk, args, d)
        want = "memtk %s: afile/x: cannot create directory: Not a directory\n" % args[0]
        check(p.returncode == 1 and p.stderr == want,
              "%s: expected exit 1 and %r, got %d %r" % (" ".join(args), want, p.returncode, p.stderr))


def memlog_files(memtk, tmp):
    d = os.path.join(tmp, "memlog")
    os.makedirs(d)
    shutil.copy(os.path.join(DATA, "memlog", "train.csv"), os.path.join(d, "m2.csv"))
    for args, want in [
        (["-o", "m2.csv", "--log", "m2.csv"], "--log and -o name the same file"),
        (["-o", "m2.csv", "--log", "./m2.csv"], "--log and -o name the same file"),
        (["-o", "new.csv", "--log", "new.log.txt", "--plot", "new.log.txt"], "--log and --plot name the same file"),
        (["-o", "new.csv", "--plot", "new.log.csv"], "the log CSV new.log.csv and --plot name the same file"),
        (["-o", "new.csv", "--plot", "./new.csv"], "--plot and -o name the same file"),
    ]:
        before = tree(d)
        p = run(memtk, ["memlog", "-q", *args, "--", "echo", "hi"], d)
        check(p.returncode == 2 and p.stderr.startswith("memtk memlog: %s\n" % want),
              "memlog %s: expected exit 2 and %r, got %d %r" % (" ".join(args), want, p.returncode, p.stderr))
        check(tree(d) == before, "memlog %s: changed the folder" % " ".join(args))


def main():
    memtk = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        overwrite_refusals(memtk, tmp)
        shared_outputs(memtk, tmp)
        parents_made(memtk, tmp)
        memlog_files(memtk, tmp)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
