# What every recognizer post-tuning base shares: the plugin imported, the
# runner that applies `post_tune` (PostTuneRunner), and the post-tuning
# schedule (`posttune_overrides`). A detector's base (lsiou_posttune.py) takes
# the schedule only: its model config already imports lsmmocr.
_base_ = ['schedules/posttune_schedule.py']
custom_imports = dict(imports=['lsmmocr'], allow_failed_imports=False)
runner_type = 'PostTuneRunner'
