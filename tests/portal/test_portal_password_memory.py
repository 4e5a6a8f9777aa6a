"""Many sign-ins at once: each password check holds 64 MB (argon2), so a process runs only a few
at a time and its memory stays bounded however many request threads check at once."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from archive_portal.services.passwords import AT_ONCE

ARGON2_MEMORY_MB = 64  # argon2-cffi's default memory cost (65,536 KiB)

_SCRIPT = textwrap.dedent(
    """
    import json, sys, threading
    from archive_portal.services.passwords import AT_ONCE, hash_password, password_matches

    stored = hash_password("Mật khẩu đúng 123!")

    def peak_mb():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024

    with open("/proc/self/clear_refs", "w") as fh:  # the peak starts again from what is resident now
        fh.write("5")
    before = peak_mb()
    threads = AT_ONCE * 4
    results = [None] * threads
    start = threading.Barrier(threads)

    def sign_in(i):
        start.wait()
        results[i] = password_matches(stored, "Mật khẩu đúng 123!" if i % 2 else "sai")

    workers = [threading.Thread(target=sign_in, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(json.dumps({"grew_mb": peak_mb() - before, "threads": threads, "results": results}))
    """
)


def test_many_password_checks_at_once_hold_memory_for_only_a_few():
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    # every check still answers rightly: the right password for odd threads, the wrong one refused
    assert report["results"] == [bool(i % 2) for i in range(report["threads"])]
    # four times as many threads as turns: unbounded, the peak would grow by threads x 64 MB
    assert report["grew_mb"] <= AT_ONCE * ARGON2_MEMORY_MB + 48, report
