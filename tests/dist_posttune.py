"""Run under torch.distributed.run: post-tune a dumped config on CPU processes
(gloo) and save this rank's network (h_Φ or E_ψ) weights to <out>/phi_rank<r>.pth."""
import sys

import torch
from mmengine.config import Config
from mmengine.dist import get_rank

from lsmmocr.engine import PostTuneRunner, finish_distributed, init_cpu_distributed
from lsmmocr.hooks import AttachedNetworkHook

assert init_cpu_distributed(), 'expected a torch.distributed.run CPU worker'
cfg = Config.fromfile(sys.argv[1])
cfg.launcher = 'pytorch'
cfg.model_wrapper_cfg = dict(type='CPUDistributedDataParallel')
runner = PostTuneRunner.from_cfg(cfg)
runner.train()
hook = next(h for h in runner.hooks if isinstance(h, AttachedNetworkHook))
torch.save(hook.network.state_dict(), f'{sys.argv[2]}/phi_rank{get_rank()}.pth')
finish_distributed()
