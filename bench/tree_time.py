"""Runs a command and reports the wall time and the user and sys CPU time of its whole process tree.

    python3 bench/tree_time.py OUT_FILE COMMAND [ARG ...]   →  OUT_FILE: "wall user sys" in seconds

/usr/bin/time counts only the descendants that were waited for. A warm stage process outlives its parent for a moment
and is reaped by init, so its CPU time would be lost. As a child subreaper (Linux prctl) this script inherits every
orphan of the tree, waits for all of them, and reads the total from getrusage(RUSAGE_CHILDREN).
"""

import ctypes
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main():
    out, command = sys.argv[1], sys.argv[2:]
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("tree_time.py: prctl(PR_SET_CHILD_SUBREAPER) failed")
    started = time.monotonic()
    code = subprocess.Popen(command).wait()
    wall = time.monotonic() - started
    while True:  # reap the orphans the command left behind
        try:
            os.wait()
        except ChildProcessError:
            break
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as file:
        file.write(f"{wall:.3f} {usage.ru_utime:.3f} {usage.ru_stime:.3f}\n")
    sys.exit(code)


if __name__ == "__main__":
    main()
