# LS-ED post-tuning of MMOCR's abinet on MMOCR's own datasets.
# Set load_from to a checkpoint of this model trained with its proxy loss.
_base_ = [
    'mmocr::textrecog/abinet/abinet_20e_st-an_mj.py',
    '../../_base_/lsed_posttune.py',
]
# ABINet's outputs are a dict: LS-ED post-tunes the last fuser's logits (what
# inference reads; post_tune.module_loss.output='vision' picks the vision
# model's). The language model stays trained by the proxy only if
# proxy_weight > 0. MMOCR's config loads a pre-trained language model from the
# network; post-tuning starts from your converged ABINet instead.
load_from = None
