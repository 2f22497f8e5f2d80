#!/usr/bin/env bash
# Set up lsmmocr's virtual environment on today's stack, idempotently.
#
# Steps: venv -> torch/torchvision -> mmcv 2.0.1 with compiled ops (reused if it already
# imports, else installed from the wheel cache, else built from the PyPI sdist with the C++
# standard the installed torch requires and cached) -> mmengine/mmdet/mmocr + pins -> plugin
# -> the font packages of tools/font_packages.txt (apt-get, as root; else skipped with a note).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: tools/setup_env.sh [--help]

Creates (or updates) ./.venv with everything lsmmocr needs. Safe to run again: finished steps
are skipped, and the mmcv wheel built from source is cached outside the repository.

Environment variables:
  PYTHON          Python 3.11 interpreter to create the venv with (default: python3.11)
  VENV            venv directory (default: .venv)
  LSMMOCR_CACHE   cache directory (default: ${XDG_CACHE_HOME:-~/.cache}/lsmmocr); the mmcv
                  wheel is kept in $LSMMOCR_CACHE/wheels/mmcv<ver>-torch<ver>-cp<ver>/
  MAX_JOBS        parallel compile jobs for the mmcv build (default: number of cores)
  LSMMOCR_FONTS   set to 0 to skip installing the font packages (tools/font_packages.txt)
USAGE
}
[[ "${1:-}" == "-h" || "${1:-}" == "--help" ]] && { usage; exit 0; }

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
VENV=${VENV:-.venv}
CACHE=${LSMMOCR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lsmmocr}
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MMCV_VERSION=2.0.1
export MAX_JOBS=${MAX_JOBS:-$(nproc)}
SETUP_T0=$SECONDS

step() {  # step NAME COMMAND...: run one step, time it, explain a failure
  local name=$1 t0=$SECONDS
  shift
  echo "==> [${name}]"
  if ! "$@"; then
    echo "!!! setup failed in step '${name}' after $((SECONDS - t0)) s." >&2
    echo "!!! Fix the error above and re-run 'make setup' (finished steps are skipped)." >&2
    exit 1
  fi
  echo "    [${name}] done in $((SECONDS - t0)) s"
}

make_venv() {
  if [[ -x "$VENV/bin/python" ]]; then echo "    reusing $VENV"; return; fi
  "$PYTHON" -m venv "$VENV"
}

vpy() { "$VENV/bin/python" "$@"; }
pip_install() {  # pip's own output goes to $VENV/pip.log; its tail is shown on failure
  local log="$VENV/pip.log"
  echo "    pip install $* (log: $log)"
  if ! vpy -m pip install --progress-bar off "$@" >>"$log" 2>&1; then
    tail -n 40 "$log" >&2
    return 1
  fi
}

install_torch() {
  if vpy -c "import torch, torchvision, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
    echo "    torch $TORCH_VERSION already installed"; return
  fi
  pip_install "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION" \
    "setuptools<81" "numpy<2" wheel ninja
}

mmcv_ops_ok() {
  vpy - <<PY 2>/dev/null
import mmcv, mmcv.ops, sys
sys.exit(mmcv.__version__ != '$MMCV_VERSION')
PY
}

cxx_std() {  # the C++ standard the installed torch's headers accept
  vpy - <<'PY'
import torch
major, minor = (int(x) for x in torch.__version__.split('+')[0].split('.')[:2])
print('c++20' if (major, minor) >= (2, 14) else 'c++17')
PY
}

wheel_key() {
  vpy - <<PY
import sys, torch
print(f"mmcv$MMCV_VERSION-torch{torch.__version__.split('+')[0]}-cp{sys.version_info[0]}{sys.version_info[1]}")
PY
}

build_mmcv_wheel() {  # build_mmcv_wheel OUT_DIR
  local out=$1 std work
  std=$(cxx_std)
  work=$(mktemp -d)
  echo "    downloading the mmcv $MMCV_VERSION sdist"
  vpy -m pip download --no-deps --no-binary :all: --no-build-isolation -q \
    -d "$work" "mmcv==$MMCV_VERSION"
  tar -xzf "$work/mmcv-$MMCV_VERSION.tar.gz" -C "$work"
  local src="$work/mmcv-$MMCV_VERSION"
  # mmcv 2.0.1 hard-codes -std=c++14, which today's torch headers reject.
  grep -q -- '-std=c++14' "$src/setup.py" || { echo "no -std=c++14 in mmcv's setup.py" >&2; return 1; }
  sed -i "s/-std=c++14/-std=${std}/g" "$src/setup.py"
  echo "    building mmcv $MMCV_VERSION with ops, -std=${std}, MAX_JOBS=$MAX_JOBS (about 20 min on 2 cores)"
  echo "    full log: $work/build.log"
  # ninja prints "[i/n] c++ ..." per object: show those lines as progress.
  ( cd "$src" && MMCV_WITH_OPS=1 FORCE_CUDA=0 "$OLDPWD/$VENV/bin/python" -m pip wheel -v \
      --no-build-isolation --no-deps -w "$work/dist" . ) >"$work/build.log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 30
    local last
    last=$(grep -oE '^ *\[[0-9]+/[0-9]+\]' "$work/build.log" | tail -n 1 | tr -d ' ' || true)
    echo "    ... $((SECONDS - SETUP_T0)) s elapsed, compiled ${last:-[0/?]}"
  done
  if ! wait "$pid"; then tail -n 40 "$work/build.log" >&2; return 1; fi
  mkdir -p "$out.tmp"
  mv "$work"/dist/mmcv-*.whl "$out.tmp/"
  rm -rf "$out" && mv "$out.tmp" "$out"
  rm -rf "$work"
}

install_mmcv() {
  if mmcv_ops_ok; then echo "    mmcv $MMCV_VERSION with compiled ops already imports: build skipped"; return; fi
  local dir
  dir="$CACHE/wheels/$(wheel_key)"
  if compgen -G "$dir/mmcv-*.whl" >/dev/null; then
    echo "    using cached mmcv wheel: $(ls "$dir"/mmcv-*.whl)"
  else
    echo "    no cached wheel in $dir: building from source"
    build_mmcv_wheel "$dir"
  fi
  pip_install "$dir"/mmcv-*.whl "numpy<2" "opencv-python<4.12"
  mmcv_ops_ok || { echo "mmcv.ops does not import after installing $dir" >&2; return 1; }
}

install_openmmlab_and_plugin() {
  pip_install "mmengine==0.10.7" "mmdet==3.1.0" "mmocr==1.0.1" -e ".[tests]"
}

install_fonts() {  # Debian's font packages for the synthetic text corpus
  local missing
  mapfile -t wanted < <(grep -vE '^\s*(#|$)' tools/font_packages.txt)
  if [[ "${LSMMOCR_FONTS:-1}" == 0 ]]; then echo "    LSMMOCR_FONTS=0: font packages skipped"; return; fi
  if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    echo "    no apt-get/dpkg on this machine: font packages skipped; the corpus falls back to"
    echo "    matplotlib's bundled fonts plus any fonts already installed"; return
  fi
  missing=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${wanted[@]}" 2>/dev/null \
    | awk '$2 == "installed" {print $1}' | sort | comm -13 - <(printf '%s\n' "${wanted[@]}" | sort))
  if [[ -z "$missing" ]]; then echo "    all ${#wanted[@]} font packages installed"; return; fi
  if [[ $(id -u) != 0 ]]; then
    echo "    not root: $(wc -w <<<"$missing") font packages not installed (install them with"
    echo "    sudo apt-get install \$(grep -v '^#' tools/font_packages.txt)); the corpus uses the fonts present"; return
  fi
  echo "    installing $(wc -w <<<"$missing") of ${#wanted[@]} font packages"
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing >/dev/null \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing >/dev/null; }
}

check_imports() {
  vpy -c "import mmcv.ops, mmocr.models, mmocr.datasets, lsmmocr; print('    mmcv.ops, mmocr.models, mmocr.datasets and lsmmocr import')"
}

step venv make_venv
step torch install_torch
step mmcv install_mmcv
step openmmlab+plugin install_openmmlab_and_plugin
step fonts install_fonts
step check check_imports
echo "==> setup finished in $((SECONDS - SETUP_T0)) s"
