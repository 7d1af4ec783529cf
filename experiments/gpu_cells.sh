#!/usr/bin/env bash
# The methods issue's cells that need a GPU at their published epoch counts, run side by side on one
# lent GPU (the `device` tool): GRACE on Coauthor-Physics (1500 epochs, the >= 95.0 bar) and the
# Amazon / Coauthor cells of GRACE, GCA, BGRL (10,000 epochs) and G-BT.
#
# Stage here, once (at most 64 MiB travel: Computers alone is 32 MB, so pick):
#   ../shared/gpu/stage.sh Coauthor/CS Coauthor/Physics Amazon/Photo
# Then run on the device (carry .gpu), with the run's timeout_s a minute above LIMIT:
#   source .gpu/env.sh && bash experiments/gpu_cells.sh LIMIT [method:Dataset[:seeds[:preset]] ...]
# e.g. `bash experiments/gpu_cells.sh 500 grace:Physics:0 grace:Physics:1 gca:CS
# gca:Photo::photo_lr0.001_prelu` (seeds: comma-separated, empty for all; preset: a config file of
# experiments/configs/<method>/ other than the dataset's); without cells, all of them.
#
# Each cell is one process (its seeds, else $SEEDS, default 0-4, in turn, on $DEVICE, default
# cuda) under `timeout LIMIT`; give one seed per cell to run a dataset's seeds side by side. Seeds
# already in results/node/ (tracked, so they travel with the checkout) are skipped. The seeds that
# finish and every cell's log come back in one file, $OUT/gpu_cells.tar.gz (the device returns at
# most 8 files, 2 folders down). Here: `tar -xzf .../gpu_cells.tar.gz -C /tmp/g && cp -r
# /tmp/g/node/. results/node/`, commit, and rerun for the rest. $EXTRA adds arguments to every
# process (e.g. `--set train.checkpoint_every=N` to keep more of a run that the timeout stops);
# $TAG gives every cell a results folder of its own for a variant run,
# <dataset>_$TAG[_<preset>] (e.g. `EXTRA='--set train.epochs=2' TAG=smoke` for a dry run: one
# --tag shared by cells of the same method would put their seeds in one folder). It writes into
# the checkout it runs in (results/node/, runs/node/): on the device that is a copy.
#
# Side by side, the processes take turns on the GPU. In a session on an H200 (its log, not kept:
# no file backs figures from it), G-BT's L-BFGS probe, many small synchronising steps, ran many
# times slower beside two GRACE Physics seeds than alone. So the probes run on the device's CPU
# (16 cores; --probe-device cpu), and heavy cells get a run of their own.
#
# The Coauthor configs of GRACE, GCA and BGRL keep the features as sparse CSR
# (data.sparse_features); that path has not yet run on a GPU here, so a GPU session first
# runs `python -m pytest -q tests/test_sparse_features.py -k cuda` (seconds).
set -uo pipefail
limit=${1:?usage: gpu_cells.sh LIMIT_SECONDS [method:Dataset[:seeds[:preset]] ...]}
shift
cells=("$@")
if [ ${#cells[@]} -eq 0 ]; then
  cells=(grace:Physics grace:Computers grace:CS gca:Computers gca:Photo gca:CS
         gca:Photo::photo_lr0.001_prelu bgrl:Computers bgrl:Photo bgrl:CS gbt:CS)
fi
out=${OUT:?OUT must name the folder whose files come back}
work=$(mktemp -d)
touch "$work/start"
mkdir -p "$work/back/node" "$work/back/logs"
for cell in "${cells[@]}"; do
  IFS=: read -r method dataset seeds preset <<<"$cell"
  seeds=${seeds:+${seeds//,/ }}
  seeds=${seeds:-${SEEDS:-0 1 2 3 4}}
  tag=${TAG:+${dataset,,}_${TAG}${preset:+_$preset}}
  # shellcheck disable=SC2086  # seeds and EXTRA are word lists
  timeout "$limit" python experiments/node_classification.py --methods "$method" \
    --datasets "$dataset" --device "${DEVICE:-cuda}" --seeds $seeds \
    --probe-device cpu --no-table ${preset:+--preset $preset} ${tag:+--tag $tag} ${EXTRA:-} \
    >"$work/back/logs/$method-$dataset${preset:+-$preset}-${seeds// /_}.log" 2>&1 &
done
wait
# only the seeds this run added (those that travelled in are already here)
(cd results/node && find . -name 'seed*.json' -newer "$work/start" -print0 |
  xargs -0 -r cp --parents -t "$work/back/node")
tar -czf "$out/gpu_cells.tar.gz" -C "$work/back" .
# the checkpoints of the seeds that did not finish, in 15 MiB parts (the device returns files of
# at most 16 MiB): `cat .../gpu_runs.tar.* | tar -x` here restores their runs/node/ folders, and
# a later run that carries them (`carry` runs/node/<method>/<tag>) resumes them; count them in
# the 64 MiB that travel (GRACE Physics: about 27 MB a seed)
mkdir -p "$work/runs"
for ck in runs/node/*/*/seed*/checkpoint.pt; do
  [ "$ck" -nt "$work/start" ] || continue     # written by this call
  run=$(dirname "$ck")                        # runs/node/<method>/<tag>/seed<k>
  [ -e "results/${run#runs/}.json" ] && continue  # finished: its results came back
  cp --parents "$ck" "$run/config.json" "$work/runs/"
done
if [ -n "$(ls -A "$work/runs")" ]; then
  tar -cf - -C "$work/runs" runs | split -b 15M -d - "$out/gpu_runs.tar."
  echo "unfinished runs (checkpoints in $(ls "$out" | grep -c gpu_runs.tar) part(s)):"
  (cd "$work/runs" && find runs -name checkpoint.pt | sort)
fi
(cd "$work/back" && find node -name 'seed*.json' | sort)
grep -h " seed " "$work"/back/logs/*.log
