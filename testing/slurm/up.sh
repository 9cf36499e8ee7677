#!/usr/bin/env bash
# Brings up a real three-node Slurm cluster on this machine for the tests:
# munged, one slurmctld and three `slurmd -N n1|n2|n3` on 127.0.0.1
# (partition `debug`, 2 CPUs per node). Idempotent: run it again with the
# cluster up and it only repairs what it finds (missing daemon, down or
# stuck nodes). Everything it starts is recorded in $STATE so that down.sh
# stops exactly that and nothing else. Needs root.
set -euo pipefail

STATE=/run/starflow-slurm            # pids and what we changed; gone on reboot
VAR=/var/lib/starflow-slurm          # controller state and slurmd spools
LOG=/var/log/starflow-slurm
CONF=/etc/slurm/slurm.conf
BACKUP=/etc/slurm/slurm.conf.starflow-backup
MARK="# starflow test cluster (testing/slurm/up.sh)"
NODES=(n1 n2 n3)
WAIT=${SLURM_UP_WAIT:-60}            # seconds to wait for the nodes

start=$(date +%s.%N)
die() { echo "slurm-up: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts daemons)"

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

logtails() {
  local f
  for f in "$LOG"/*.log /var/log/munge/munged.log; do
    [ -f "$f" ] || continue
    echo "---- tail $f" >&2
    tail -n 15 "$f" >&2
  done
}

# --- packages ---------------------------------------------------------------
# dpkg-query rather than `command -v`: a half-removed package leaves binaries.
pkgs=(slurm-wlm munge openmpi-bin libopenmpi-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "slurm-up: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Package scripts would start munge/slurmd/slurmctld through their init
  # scripts with the stock config; we start them ourselves, so forbid that
  # for the duration of the install unless a policy already exists.
  policy_added=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_added=1
  fi
  trap '[ -n "$policy_added" ] && rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -n "$policy_added" ] && rm -f /usr/sbin/policy-rc.d
  trap - EXIT
fi

# --- config -----------------------------------------------------------------
host=$(hostname -s)
# Nothing of ours running: a fresh start, so the last run's logs (kept by
# down.sh for a post-mortem) would only confuse the log tails below.
fresh=1
for f in "$STATE"/*.pid; do alive "$f" && fresh=; done
[ -n "$fresh" ] && rm -f "$LOG"/*.log
mkdir -p "$STATE" "$VAR/ctld" "$LOG" /etc/slurm
for n in "${NODES[@]}"; do mkdir -p "$VAR/$n" "$VAR/tmp/$n"; done

# A slurm.conf that is not ours is kept aside once and put back by down.sh.
if [ -e "$CONF" ] && ! head -n 1 "$CONF" | grep -qF "$MARK" && [ ! -e "$BACKUP" ]; then
  cp -p "$CONF" "$BACKUP"
  echo "slurm-up: backed up $CONF to $BACKUP"
fi
[ -e "$CONF" ] || [ -e "$STATE/conf-created" ] || touch "$STATE/conf-created"

newconf=$(mktemp)
cat >"$newconf" <<EOF
$MARK
# Written by up.sh; down.sh restores the file that was here before, if any.
ClusterName=starflow
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=6817
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
# One machine plays three nodes: no cgroups, processes tracked by parentage.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Schedule a batch job when it is submitted rather than up to 3 s later
# (the default batch_sched_delay): tests and benchmarks wait on that delay.
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
# Node state must not outlive the cluster: a stale state file brings nodes
# back down or drained.
StateSaveLocation=$VAR/ctld
SlurmdSpoolDir=$VAR/%n
# Per-node scratch: PMIx puts its client directory here, and with one /tmp
# shared by the three slurmd the second node of a step finds the first's
# directory and the step fails to launch (srun --mpi=pmix).
TmpFS=$VAR/tmp/%n
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd-%n.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
# Tests start and kill many short jobs: be quick to reap them.
KillWait=5
MinJobAge=30
InactiveLimit=0
MessageTimeout=10
SlurmdTimeout=30
UnkillableStepTimeout=30
# The three nodes share this machine's CPUs; trust the config, not the probe.
SlurmdParameters=config_overrides
NodeName=n[1-3] NodeHostname=$host NodeAddr=127.0.0.1 Port=17001-17003 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=n[1-3] Default=YES MaxTime=INFINITE State=UP
EOF
if ! cmp -s "$newconf" "$CONF" 2>/dev/null; then
  cp "$newconf" "$CONF"
  chmod 644 "$CONF"
  conf_changed=1
else
  conf_changed=
fi
rm -f "$newconf"

# --- munge ------------------------------------------------------------------
# Reuse a munged that is already running (ours or the machine's); only one
# we start is recorded for down.sh.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
  if [ ! -s /etc/munge/munge.key ]; then
    install -d -o munge -g munge -m 0700 /etc/munge
    runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  runuser -u munge -- /usr/sbin/munged || { logtails; die "munged did not start"; }
  cp /run/munge/munged.pid "$STATE/munged.pid"
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null || { logtails; die "munge does not round-trip"; }
fi

# --- slurm daemons ----------------------------------------------------------
# A changed config needs the running daemons to reread it.
if [ -n "$conf_changed" ] && alive "$STATE/slurmctld.pid"; then
  scontrol reconfigure || true
fi
ctld_started=
if ! alive "$STATE/slurmctld.pid"; then
  ctld_started=1
  slurmctld || { logtails; die "slurmctld did not start"; }
fi
for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q 'is UP' && break; sleep 0.1; done
scontrol ping 2>/dev/null | grep -q 'is UP' || { logtails; die "slurmctld does not answer"; }
for n in "${NODES[@]}"; do
  alive "$STATE/slurmd-$n.pid" || slurmd -N "$n" || { logtails; die "slurmd -N $n did not start"; }
done

# --- wait for the nodes -----------------------------------------------------
# Usable means each node answers and is idle, or busy with a live job (a
# second run while tests hold nodes must not fail). Down or drained nodes are
# resumed; a node stuck completing (a job step that failed to start) is put
# down and resumed, which ends whatever was left of that job.
deadline=$(( $(date +%s) + WAIT ))
comp_since=
while :; do
  states=$(sinfo -h -N -p debug -o '%N %t' 2>/dev/null | sort -u || true)
  bad=$(awk '$2 !~ /^(idle|mix|alloc)$/ {print $1}' <<<"$states" | paste -sd, -)
  n=$(grep -c . <<<"$states" || true)
  [ "$n" = 3 ] && [ -z "$bad" ] && break
  down=$(awk '$2 ~ /^(down|drain|drng|drained|fail|failg)$/ {print $1}' <<<"$states" | paste -sd, -)
  [ -n "$down" ] && scontrol update nodename="$down" state=resume 2>/dev/null || true
  comp=$(awk '$2 ~ /^comp/ {print $1}' <<<"$states" | paste -sd, -)
  if [ -n "$comp" ]; then
    comp_since=${comp_since:-$(date +%s)}
    if [ $(( $(date +%s) - comp_since )) -ge 10 ]; then
      scontrol update nodename="$comp" state=down reason="stuck completing (up.sh)" || true
      scontrol update nodename="$comp" state=resume || true
      comp_since=
    fi
  else
    comp_since=
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "slurm-up: nodes not usable after ${WAIT}s:" >&2
    sinfo -N -p debug >&2 || true
    logtails
    exit 1
  fi
  sleep 0.5
done

# A fresh slurmctld holds batch jobs for its first seconds (srun allocations
# go through at once), which would make the first test's `sbatch` look slow.
# Run one batch job through so that the tests and benchmarks find a warm
# scheduler, and so that a broken batch path shows up here.
if [ -n "$ctld_started" ]; then
  id=$(sbatch --parsable -p debug -N 1 -J starflow-warmup -o /dev/null --wrap true) || { logtails; die "sbatch of the warm-up job failed"; }
  while [ -n "$(squeue -h -j "$id" -o %T 2>/dev/null)" ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      scancel "$id" 2>/dev/null || true
      logtails
      die "warm-up batch job $id did not finish within ${WAIT}s"
    fi
    sleep 0.1
  done
fi

took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
echo "slurm-up: cluster starflow up in ${took}s: partition debug, nodes $(echo "$states" | awk '{printf "%s%s=%s", (NR > 1 ? "," : ""), $1, $2}'), controller $host:6817, state $STATE"
