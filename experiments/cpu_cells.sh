#!/usr/bin/env bash
# The methods issue's cells still short of seeds, trained one after another on this machine's CPU
# when no GPU is lent. The default queue began with the seeds of cells that had none or few (GCA
# Computers and CS, GRACE CS, BGRL Computers: done), then BGRL Coauthor-CS seed 0 (a seed is
# longer than a session, so it resumes across sessions), then the other seeds, BGRL CS's further
# seeds last but GCA Computers' (whose first seed is below the bar and whose variant meets it:
# docs/results.md). A seed whose results file exists is skipped, so the same command picks up
# where the last one stopped:
#
#   . .venv/bin/activate && nohup bash experiments/cpu_cells.sh > /work/logs/cpu_cells.log 2>&1 &
#
# then `python experiments/results_table.py` and commit results/node/ with docs/results.md as seeds
# finish. A seed cut off mid-training resumes from its checkpoint (runs/node/, every
# train.checkpoint_every epochs, 100 or as its config says (BGRL: 500), and every 5 minutes) only
# where runs/ survives: runs/ is not committed, so on a machine that starts fresh (no
# runs/node/bgrl/cs), pass session-sized cells instead of the default queue, e.g.
# `bash experiments/cpu_cells.sh bgrl:Computers:4`, and let each seed finish within the session.
# CPU time per epoch on the 2-core EPYC, one process at a time (seconds_per_epoch of the results
# files named): GRACE CS 8.25 s x 1000 (grace/cs/seed0.json: 2.3 h); BGRL Computers 0.78-0.83 s x
# 10,000 (bgrl/computers/seed2.json, seed3.json: 2.2-2.3 h; 1.11 and 1.37 s in seed0/seed1.json,
# on older code); GCA Computers 5.57 s x 2000 and GCA CS 16.7 s x 1000 (gca/computers/seed0.json,
# gca/cs/seed0.json, older code: 3.1 h and 4.6 h; GRACE's epoch, the same InfoNCE work, took 2.77 s
# on Computers in grace/computers/seed0.json); BGRL CS x 10,000 has no results file yet: about
# 1.4 s an epoch on seed 0's progress bar, so about 4 h a seed, which on the CPU needs a machine
# that keeps runs/ across sessions (on a GPU: experiments/gpu_cells.sh). Pass cells
# (method:Dataset:seeds, seeds comma-separated, empty for 0-4) to run others; $ROOT is the data
# root (default ../shared/datasets). A cell that fails is reported and the queue goes on with the
# next; the script exits 1 at the end if any failed.
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
