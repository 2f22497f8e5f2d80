"""The ``lsmmocr`` registry scope: children of MMOCR's registries.

lsmmocr registers its components in MMOCR's registries (configs keep
``default_scope='mmocr'``). A config inherited as ``lsmmocr::<path>`` gets
``_scope_='lsmmocr'`` on its built dicts (MMEngine's rule for package
configs); these empty children resolve that scope, and every lookup falls
through to MMOCR's registry (and MMEngine's) as for ``mmocr``.
"""
import mmocr.registry as _mmocr
from mmengine.registry import Registry

SCOPE = 'lsmmocr'
_NAMES = ('RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'DATASETS',
          'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
          'WEIGHT_INITIALIZERS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
          'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS',
          'EVALUATOR', 'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS',
          'LOG_PROCESSORS')


def _child(parent: Registry) -> Registry:
    return Registry(parent.name, parent=parent, scope=SCOPE,
                    locations=['lsmmocr'])


(RUNNERS, RUNNER_CONSTRUCTORS, LOOPS, HOOKS, DATASETS, DATA_SAMPLERS,
 TRANSFORMS, MODELS, MODEL_WRAPPERS, WEIGHT_INITIALIZERS, OPTIMIZERS,
 OPTIM_WRAPPERS, OPTIM_WRAPPER_CONSTRUCTORS, PARAM_SCHEDULERS, METRICS,
 EVALUATOR, TASK_UTILS, VISUALIZERS, VISBACKENDS,
 LOG_PROCESSORS) = (_child(getattr(_mmocr, n)) for n in _NAMES)
