"""A finished distributed run ends its process group cleanly: pending
asynchronous work done, the group destroyed, before the interpreter exits."""
import subprocess
import sys
import textwrap

from conftest import REPO

CHECK = textwrap.dedent('''
    import torch
    import torch.distributed as dist
    from lsmmocr.engine import finish_distributed, init_cpu_distributed
    assert init_cpu_distributed()
    big = torch.ones(2_000_000)
    work = dist.all_reduce(big, async_op=True)  # never waited for
    finish_distributed()
    print('pending work done:', work.is_completed(), 'sum:', int(big[0]),
          'group alive:', dist.is_initialized())
''')


def test_finish_distributed_waits_for_pending_work_and_destroys_the_group(tmp_path):
    script = tmp_path / 'check.py'
    script.write_text(CHECK)
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--standalone',
         '--nproc_per_node=2', str(script)],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    expected = 'pending work done: True sum: 2 group alive: False'
    assert proc.stdout.count(expected) == 2, proc.stdout
