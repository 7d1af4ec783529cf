#!/usr/bin/env bash
# The methods issue's cells that need a GPU at their published epoch counts, run side by side on one
# lent GPU (the `device` tool): GRACE on Coauthor-Physics (1500 epochs, the >= 95.0 bar) and the
# Amazon / Coauthor cells of GRACE, GCA, BGRL (10,000 epochs) and G-BT.
#
# Stage here, once:
#   ../shared/gpu/stage.sh Amazon/Computers Amazon/Photo Coauthor/CS Coauthor/Physics
# Then run on the device (carry .gpu), with the run's timeout_s a minute above LIMIT:
#   source .gpu/env.sh && bash experiments/gpu_cells.sh LIMIT [method:Dataset ...]
# e.g. `bash experiments/gpu_cells.sh 500 grace:Physics bgrl:Photo`; without cells, all of them.
#
# Each cell is one process (seeds $SEEDS, default 0-4, in turn, on $DEVICE, default cuda)
# under `timeout LIMIT`; seeds already in results/node/ (tracked, so they travel with the
# checkout) are skipped, and the seeds that finish are copied to $OUT/results/node/, logs to
# $OUT/logs/. Copy what comes back into
# results/node/ here, commit, and rerun for the rest.
set -uo pipefail
limit=${1:?usage: gpu_cells.sh LIMIT_SECONDS [method:Dataset ...]}
shift
cells=("$@")
if [ ${#cells[@]} -eq 0 ]; then
  cells=(grace:Physics grace:Computers grace:CS gca:Computers gca:Photo gca:CS
         bgrl:Computers bgrl:Photo bgrl:CS gbt:CS)
fi
out=${OUT:?OUT must name the folder whose files come back}
work=$(mktemp -d)
cp -rp results/node "$work/node"
touch "$work/start"
mkdir -p "$out/logs" "$out/results/node"
for cell in "${cells[@]}"; do
  method=${cell%%:*}
  dataset=${cell#*:}
  timeout "$limit" python experiments/node_classification.py --methods "$method" \
    --datasets "$dataset" --device "${DEVICE:-cuda}" --seeds ${SEEDS:-0 1 2 3 4} \
    --results "$work/node" --runs-dir "$work/runs" --no-table \
    >"$out/logs/$method-$dataset.log" 2>&1 &
done
wait
# only the seeds this run added (those that travelled in are already here)
(cd "$work/node" && find . -name 'seed*.json' -newer "$work/start" -print0 |
  xargs -0 -r cp --parents -t "$out/results/node")
find "$out/results/node" -name 'seed*.json' | sort
grep -h " seed " "$out"/logs/*.log
