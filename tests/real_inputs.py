"""The real snapshots in ../shared/data/snapshots, for the tests that run over them.

They are never copied into the repository: where the folder is absent (a
clone elsewhere), a test says so and skips.
"""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SNAPSHOTS = os.path.join(ROOT, "..", "shared", "data", "snapshots")


def real_snapshots():
    """(name, path) of every snapshot file in name order; None, after printing
    why, when the folder does not exist."""
    if not os.path.isdir(SNAPSHOTS):
        print("skip: %s does not exist (real snapshots are never copied into the repo)" % SNAPSHOTS)
        return None
    names = sorted(os.listdir(SNAPSHOTS))
    return [(n, os.path.join(SNAPSHOTS, n)) for n in names
            if not n.endswith(".md") and os.path.isfile(os.path.join(SNAPSHOTS, n))]
