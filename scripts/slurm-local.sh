#!/bin/bash
# Starts a real single-node Slurm (Debian's slurm-wlm and munge) on this machine, runs a small cimc
# design-space study as a 4-task job array (scripts/slurm/explore-array.sbatch), merges the shards
# and checks that the merge equals a single-process run of the same study, row for row. Installs
# what it needs with apt-get (run as root), keeps its configuration, state and logs in a temporary
# folder (SLURM_CONF points there; /etc/slurm is not touched) and stops every daemon it started,
# by pid. Exit status 0 only when the check passes.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

log() { echo "slurm-local: $*"; }
fail() { echo "slurm-local: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (it starts slurmctld, slurmd and munged)"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
  log "installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq slurm-wlm munge >/dev/null
fi

D=$(mktemp -d /tmp/cimc-slurm-XXXXXX)
pids=()
cleanup() {
  status=$?
  for pidfile in "$D/slurmd.pid" "$D/slurmctld.pid" "$D/munged.pid"; do
    if [ -s "$pidfile" ]; then
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  if [ "$status" -ne 0 ]; then
    for f in "$D"/*.log "$D"/out-*.txt; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done >&2
  fi
  rm -rf "$D"
  exit "$status"
}
trap cleanup EXIT
mkdir -p "$D/spool" "$D/state" "$D/out" "$D/bin"

log "building cimc"
dotnet build src/Cimc.Cli -c Release -o "$D/bin" -v quiet -nologo >"$D/build.log" 2>&1 || { cat "$D/build.log" >&2; fail "dotnet build"; }
export CIMC="dotnet $D/bin/cimc.dll"

# munge: our own daemon, socket, key and pid file, so nothing system-wide is changed or stopped.
[ -f /etc/munge/munge.key ] || mungekey -c -k /etc/munge/munge.key
cp /etc/munge/munge.key "$D/munge.key"
chmod 600 "$D/munge.key"
munged --force --key-file="$D/munge.key" --socket="$D/munge.socket" --pid-file="$D/munged.pid" \
  --log-file="$D/munged.log" --seed-file="$D/munged.seed" 2>>"$D/munged.log"
for _ in $(seq 50); do [ -S "$D/munge.socket" ] && break; sleep 0.1; done
munge -n --socket="$D/munge.socket" | unmunge --socket="$D/munge.socket" | grep -q Success || fail "munge authentication"

export SLURM_CONF=$D/slurm.conf
cat > "$SLURM_CONF" <<CONF
ClusterName=cimc-local
SlurmctldHost=localhost
AuthType=auth/munge
AuthInfo=socket=$D/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmUser=root
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmdSpoolDir=$D/spool
StateSaveLocation=$D/state
SlurmctldLogFile=$D/slurmctld.log
SlurmdLogFile=$D/slurmd.log
NodeName=localhost CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

log "starting slurmctld and slurmd"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  sinfo -h -o %t 2>/dev/null | grep -q idle && break
  sleep 0.5
done
sinfo -h -o %t | grep -q idle || fail "the node did not come up idle: $(sinfo 2>&1 | tail -n 2)"

model=$repo/examples/fashion-mnist/mlp.onnx
space=$D/space.json
cat > "$space" <<'JSON'
{ "arch": "isaac", "params": { "core.crossbar.rows": [64, 128, 256], "core.adc.bits": [4, 8], "weight-bits": [4, 8], "activation-bits": [8] } }
JSON

log "running a 4-task job array"
export TMPDIR=$D
sbatch --wait --array=0-3 --output="$D/out-%a.txt" "$repo/scripts/slurm/explore-array.sbatch" "$model" "$space" "$D/out" >"$D/sbatch.txt" \
  || fail "the job array failed: $(cat "$D/sbatch.txt")"
for i in 0 1 2 3; do
  [ -f "$D/out/shard-$i.db" ] || fail "task $i wrote no database"
  grep -q "shard $i/4" "$D/out-$i.txt" || fail "task $i did not finish"
done

log "merging the shards and comparing with a single-process run"
$CIMC explore merge "$D/merged.db" "$D"/out/shard-*.db
$CIMC explore "$model" --space "$space" --db "$D/single.db" >/dev/null 2>&1
$CIMC explore report "$D/merged.db" -o "$D/merged.html" --csv "$D/merged.csv" >/dev/null
$CIMC explore report "$D/single.db" -o "$D/single.html" --csv "$D/single.csv" >/dev/null
rows=$(($(wc -l < "$D/single.csv") - 1))
[ "$rows" -eq 12 ] || fail "the single run has $rows points, expected 12"
diff -u "$D/single.csv" "$D/merged.csv" >&2 || fail "the merged shards differ from the single-process run"
log "passed: 4 shards merged equal the single-process run ($rows points)"
