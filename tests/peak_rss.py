"""peak_rss.py COMMAND [ARG]...: prints COMMAND's peak RSS in KB, or -1 if it failed.

Run it as `python3 -S -I tests/peak_rss.py ...`: Linux counts the child's high-water mark from
before exec too, so the spawner must be a bare interpreter (posix_spawn, no site modules:
about 8 MB). Used by the memory bounds of tests/cli/run.sh and tests/kernel/test_apply.py."""
import os
import sys

pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ)
_, status, ru = os.wait4(pid, 0)
print(ru.ru_maxrss if os.waitstatus_to_exitcode(status) == 0 else -1)
