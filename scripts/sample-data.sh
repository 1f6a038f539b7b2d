#!/usr/bin/env bash
# Rebuilds data/face-mask/: every 8th image (by sorted name) of each class of the development copy of the
# face-mask dataset, 200 per class. Usage: scripts/sample-data.sh [SOURCE] (default ../shared/datasets/face-mask).
set -euo pipefail
source_dir=${1:-../shared/datasets/face-mask}
target=data/face-mask
for class in with_mask without_mask; do
  rm -rf "${target:?}/$class"
  mkdir -p "$target/$class"
  find "$source_dir/$class" -maxdepth 1 -type f | sort | awk 'NR % 8 == 0' | head -n 200 |
    while read -r file; do cp "$file" "$target/$class/"; done
  echo "$class: $(find "$target/$class" -type f | wc -l) images"
done
du -sh "$target"
