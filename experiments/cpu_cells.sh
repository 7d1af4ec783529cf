#!/usr/bin/env bash
# The methods issue's cells still short of seeds, trained one after another on this machine's CPU
# when no GPU is lent: each cell's first seed before any cell's further seeds, the cheapest first;
# last, the further seeds of GCA Computers, whose first seed is below the bar and whose variant
# meets it (docs/results.md).
# Nothing is lost between sessions: a seed whose results file exists is skipped and a seed cut off
# mid-training resumes from its checkpoint (every 100 epochs, in runs/node/), so the same command
# picks up where the last session stopped:
#
#   . .venv/bin/activate && nohup bash experiments/cpu_cells.sh > /work/logs/cpu_cells.log 2>&1 &
#
# then `python experiments/results_table.py` and commit results/node/ with docs/results.md as seeds
# finish. CPU time per seed on the 2-core EPYC (measured 2026-12-07, one process at a time):
# GCA Computers 2000 epochs x 4.8 s; GCA CS 1000 x 10-13 s (13-16 s before InfoNCE's square
# tiles); GRACE CS 1000 x 11-13 s (before them); BGRL CS 10,000 x 2.0-2.5 s (a step timed
# alone on 2026-12-07 with reuse_freed_memory, which the script calls; 3.3-3.9 s without it the
# same hour: about 6 h a seed); BGRL Computers 10,000 x 0.9-1.4 s. Pass cells (method:Dataset:seeds, seeds
# comma-separated) to run others; $ROOT is the data root (default ../shared/datasets).
set -uo pipefail
cells=("$@")
if [ ${#cells[@]} -eq 0 ]; then
  cells=(gca:Computers:0 gca:CS:0 grace:CS:0 bgrl:CS:0 bgrl:Computers:2,3,4
         grace:CS:1,2,3,4 gca:CS:1,2,3,4 bgrl:CS:1,2,3,4 gca:Computers:1,2,3,4)
fi
for cell in "${cells[@]}"; do
  IFS=: read -r method dataset seeds <<<"$cell"
  echo "== $(date -u +%FT%TZ) $method $dataset seeds ${seeds//,/ }"
  # shellcheck disable=SC2086  # seeds is a word list
  python experiments/node_classification.py --methods "$method" --datasets "$dataset" \
    --seeds ${seeds//,/ } --root "${ROOT:-../shared/datasets}" --device cpu --no-table || exit
done
