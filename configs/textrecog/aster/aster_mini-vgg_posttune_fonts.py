# Post-tuning the converged attention reader (shipped in artifacts/readers/,
# loaded by name) on fresh crops of the font stream, past every index it was
# trained on. The arms inherit this and a post-tuning base:
# aster_mini-vgg_{control,lsed,expected-risk}_fonts.py. Validation measures total
# edit distance and keeps the best checkpoint (every arm's selection rule).
_base_ = ['aster_mini-vgg_fonts.py']

load_from = 'lsmmocr://readers/aster_mini-vgg_fonts'
train_dataloader = _base_.fonts_posttune_train_dataloader
val_evaluator = _base_.fonts_test_evaluator
default_hooks = _base_.fonts_posttune_checkpoint
