#!/usr/bin/env bash
# The methods issue's cells still short of seeds, trained one after another on this machine's CPU
# when no GPU is lent: first the seeds that fit in a 3-hour session, the cheapest cell first; then
# BGRL Coauthor-CS seed 0 (the one cell with no run yet; a seed is longer than a session, so it
# resumes across sessions); then the other seeds, BGRL CS's further seeds last but GCA Computers'
# (whose first seed is below the bar and whose variant meets it: docs/results.md).
# A seed whose results file exists is skipped, so the same command picks up where the last one
# stopped:
#
#   . .venv/bin/activate && nohup bash experiments/cpu_cells.sh > /work/logs/cpu_cells.log 2>&1 &
#
# then `python experiments/results_table.py` and commit results/node/ with docs/results.md as seeds
# finish. A seed cut off mid-training resumes from its checkpoint (runs/node/, every 100 epochs and
# every 5 minutes) only where runs/ survives: runs/ is not committed, so on a machine that starts
# fresh (no runs/node/bgrl/cs), pass session-sized cells instead of the default queue, e.g.
# `bash experiments/cpu_cells.sh bgrl:Computers:4`, and let each seed finish within the session.
# CPU time per seed on the 2-core EPYC, one process at a time: GRACE CS 1000 epochs x 8.25 s
# (seconds_per_epoch of results/node/grace/cs/seed0.json, 2026-12-07: 2.3 h; 10-13 s on an
# earlier, slower machine); BGRL Computers 10,000 x 0.78-0.83 s (seconds_per_epoch of
# results/node/bgrl/computers/seed2.json and seed3.json, 2026-12-07: 2.2-2.3 h; 0.9-1.4 s
# earlier); GCA Computers 2000 x 4.8 s; GCA CS 1000 x 10-13 s (both on the earlier machine); BGRL
# CS 10,000 x 1.4-1.5 s with reuse_freed_memory, which the script calls (the progress bar of seed
# 0, 2026-12-07, no results file yet: about 4 h, so on the CPU it needs a machine that keeps runs/
# across sessions; on a GPU, experiments/gpu_cells.sh). Pass cells (method:Dataset:seeds, seeds
# comma-separated, empty for 0-4) to run others; $ROOT is the data root (default
# ../shared/datasets). A cell that fails is reported and the queue goes on with the next; the
# script exits 1 at the end if any failed.
set -uo pipefail
cells=("$@")
if [ ${#cells[@]} -eq 0 ]; then
  cells=(gca:Computers:0 gca:CS:0 grace:CS:0 bgrl:Computers:2,3 bgrl:CS:0 bgrl:Computers:4
         grace:CS:1,2,3,4 gca:CS:1,2,3,4 bgrl:CS:1,2,3,4 gca:Computers:1,2,3,4)
fi
failed=()
for cell in "${cells[@]}"; do
  IFS=: read -r method dataset seeds <<<"$cell"
  seeds=${seeds:-0,1,2,3,4}
  echo "== $(date -u +%FT%TZ) $method $dataset seeds ${seeds//,/ }"
  # shellcheck disable=SC2086  # seeds is a word list
  if ! python experiments/node_classification.py --methods "$method" --datasets "$dataset" \
    --seeds ${seeds//,/ } --root "${ROOT:-../shared/datasets}" --device cpu --no-table; then
    echo "== $(date -u +%FT%TZ) FAILED: $cell (the queue goes on)"
    failed+=("$cell")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed cells: ${failed[*]}"
  exit 1
fi
