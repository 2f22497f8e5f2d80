"""Small helpers shared by tools and components."""
import json
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator, List, Optional, Sequence, Tuple, Type, Union

import mmocr
import torch
from mmengine.config import Config
from mmengine.model import is_model_wrapper


def cache_root() -> str:
    """``$LSMMOCR_CACHE``, else ``${XDG_CACHE_HOME:-~/.cache}/lsmmocr``."""
    default = osp.join(os.environ.get('XDG_CACHE_HOME') or
                       osp.expanduser('~/.cache'), 'lsmmocr')
    return os.environ.get('LSMMOCR_CACHE') or default


@contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """A temporary name in ``path``'s folder (made if missing) to write
    ``path`` under, with the same extension; renamed to ``path`` when the
    block ends, removed if it fails: an interrupted write never leaves a half
    file, and an earlier complete file stays until the new one is whole. The
    name holds the process id, so processes writing the same file (data
    loader workers filling a cache) never share one."""
    folder, name = osp.split(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    stem, ext = osp.splitext(name)
    tmp = osp.join(folder, f'.{stem}.{os.getpid()}.tmp{ext}')
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def save_atomic(obj: object, path: str) -> None:
    """``torch.save`` through :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through :func:`atomic_path`."""
    with atomic_path(path) as tmp, open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)


def write_json(path: str, obj: object, **kwargs) -> None:
    """``json.dump`` to ``path`` through :func:`atomic_path`."""
    write_text(path, json.dumps(obj, **kwargs))


def package_data(*parts: str) -> str:
    """A path in the package's data, ``lsmmocr/.mim`` (``configs/``, the
    shipped ``artifacts/``): links to the top-level folders in a checkout,
    copies in an installed package, as OpenMMLab packages ship theirs."""
    return osp.join(osp.dirname(osp.abspath(__file__)), '.mim', *parts)


def read_checkpoint(path: str, kind: str = 'checkpoint') -> dict:
    """``torch.load`` of a local checkpoint (a dict) on the CPU; a missing,
    truncated or foreign file is named in one error (``kind`` says what was
    expected, e.g. ``'surrogate checkpoint'``)."""
    try:
        state = torch.load(path, map_location='cpu', weights_only=False)
    except FileNotFoundError:
        raise FileNotFoundError(f'{kind} not found: {path}') from None
    except (RuntimeError, EOFError, OSError) as e:  # truncated, not torch's
        raise ValueError(f'{path} is not a readable PyTorch checkpoint '
                         f'(truncated or another format): {e}') from None
    if not isinstance(state, dict):
        raise ValueError(f'{path} holds a {type(state).__name__}, not a {kind}')
    return state


def mmocr_dict_file(name_or_path: str) -> str:
    """Resolve a dictionary: an existing path, or a name MMOCR ships in ``dicts/``."""
    if osp.isfile(name_or_path):
        return name_or_path
    shipped = osp.join(osp.dirname(mmocr.__file__), '.mim', 'dicts', name_or_path)
    if osp.isfile(shipped):
        return shipped
    raise FileNotFoundError(
        f'dictionary {name_or_path!r} is neither a file nor one of MMOCR\'s '
        f'dictionaries in {osp.dirname(shipped)}')


def unwrap_model(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside a (DDP) wrapper, or ``model`` itself."""
    return model.module if is_model_wrapper(model) else model


def modules_of(model: torch.nn.Module, cls: Type) -> List[torch.nn.Module]:
    """Every submodule of ``model`` (unwrapped) that is a ``cls``."""
    return [m for m in unwrap_model(model).modules() if isinstance(m, cls)]


@contextmanager
def frozen(module: torch.nn.Module) -> Iterator[None]:
    """Build graphs through ``module`` without making its parameters leaves
    that receive gradients."""
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


@contextmanager
def side_effect_free(model: torch.nn.Module) -> Iterator[None]:
    """Forward passes inside leave no trace on training: torch's random state
    and the model's buffers (BatchNorm statistics) are restored."""
    buffers = {k: v.clone() for k, v in model.named_buffers()}
    with torch.random.fork_rng(devices=[]):
        yield
    for k, v in model.named_buffers():
        v.copy_(buffers[k])


def check_settings(**checks: Tuple[object, bool, object]) -> None:
    """Raise ``ValueError`` naming the first setting that fails its check:
    ``name=(value, ok, allowed)``, ``allowed`` said in the message."""
    for name, (value, ok, allowed) in checks.items():
        if not ok:
            raise ValueError(f'{name} must be {allowed}, got {value!r}')


def objective(losses: dict) -> torch.Tensor:
    """What MMEngine optimises of a loss dict: the sum of the means of its
    terms whose keys hold ``loss`` (MMOCR's CE loss is per element)."""
    return sum(v.mean() for k, v in losses.items() if 'loss' in k)


def recognizer_outputs(model: torch.nn.Module, batch: dict) -> Tuple[
        Union[torch.Tensor, dict], Sequence]:
    """The decoder's raw outputs on ``batch`` (a data loader's, through the
    data preprocessor in training mode) as its training loss reads them, and
    the data samples with the targets its module loss prepares."""
    data = model.data_preprocessor(batch, True)
    samples = model.decoder.module_loss.get_targets(data['data_samples'])
    feat = model.extract_feat(data['inputs'])
    enc = model.encoder(feat, samples) if model.with_encoder else None
    return model.decoder(feat, enc, samples), samples


def unit_per_sample(x: torch.Tensor) -> torch.Tensor:
    """``x`` ``(N, ...)`` scaled to unit L2 norm per sample."""
    return x / x.flatten(1).norm(dim=1).clamp_min(1e-12).view(
        -1, *[1] * (x.dim() - 1))


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """``Config.fromfile`` plus ``--cfg-options`` overrides, as MMOCR's tools do."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def train_on_synth_split(cfg: Config, data_root: str, batch_size: int) -> Config:
    """Point ``cfg``'s training at the train split of a synthetic set written
    by ``tools/make_synth_data.py``, in-process data loading, no validation
    (for tests and benchmarks that run a few steps)."""
    cfg.train_dataloader.update(batch_size=batch_size, num_workers=0,
                                persistent_workers=False)
    # Assignment replaces (ConfigDict.update would merge into ConcatDataset).
    cfg.train_dataloader['dataset'] = dict(
        type='OCRDataset', data_root=str(data_root),
        ann_file='textrecog_train.json', pipeline=cfg.train_pipeline)
    cfg.update(val_dataloader=None, val_cfg=None, val_evaluator=None)
    return cfg
