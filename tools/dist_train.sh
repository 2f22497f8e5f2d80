#!/usr/bin/env bash
# Multi-process training with torch.distributed (one process per GPU, or per
# CPU worker with the gloo backend: add
# --cfg-options env_cfg.dist_cfg.backend=gloo on machines without CUDA).
#
# Usage: tools/dist_train.sh CONFIG NUM_PROCS [train.py options...]
# Environment: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR (127.0.0.1)
set -euo pipefail
if [[ $# -lt 2 || "$1" == "-h" || "$1" == "--help" ]]; then
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
CONFIG=$1
NPROCS=$2
shift 2
exec python -m torch.distributed.run \
  --nnodes="${NNODES:-1}" \
  --node_rank="${NODE_RANK:-0}" \
  --master_addr="${MASTER_ADDR:-127.0.0.1}" \
  --master_port="${PORT:-29500}" \
  --nproc_per_node="$NPROCS" \
  "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "$@"
