"""Distributed runs end their process group before the interpreter exits."""
import subprocess
import sys
import textwrap

from conftest import REPO

CHECK = textwrap.dedent('''
    import atexit
    import torch.distributed as dist
    # Registered first, so it runs after every handler registered later.
    atexit.register(lambda: print('group alive at exit:', dist.is_initialized()))
    from lsmmocr.engine import init_cpu_distributed
    assert init_cpu_distributed()
    dist.barrier()
''')


def test_cpu_process_group_is_destroyed_at_exit(tmp_path):
    script = tmp_path / 'check.py'
    script.write_text(CHECK)
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--standalone',
         '--nproc_per_node=2', str(script)],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count('group alive at exit: False') == 2, proc.stdout
