#!/usr/bin/env bash
# Stops exactly the daemons testing/slurm/up.sh started (pids recorded in
# $STATE), drops the cluster's job and node state, and puts back the
# slurm.conf that was there before. Packages stay installed. Safe to run
# when nothing is up. Logs stay in $LOG for a post-mortem.
set -uo pipefail

STATE=/run/starflow-slurm
VAR=/var/lib/starflow-slurm
LOG=/var/log/starflow-slurm
CONF=/etc/slurm/slurm.conf
BACKUP=/etc/slurm/slurm.conf.starflow-backup
MARK="# starflow test cluster (testing/slurm/up.sh)"

[ "$(id -u)" = 0 ] || { echo "slurm-down: must run as root" >&2; exit 1; }

# Jobs first, so slurmd does not leave their processes behind.
if [ -s "$STATE/slurmctld.pid" ] && kill -0 "$(cat "$STATE/slurmctld.pid")" 2>/dev/null; then
  timeout 10 scancel --full --quiet --partition=debug 2>/dev/null || true
fi

# TERM, then KILL whatever is still there after 10 s. Only our pid files.
stopped=()
pids=()
for f in "$STATE"/slurmd-*.pid "$STATE/slurmctld.pid" "$STATE/munged.pid"; do
  [ -s "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null && { pids+=("$pid"); stopped+=("$(basename "$f" .pid)"); }
  fi
done
for _ in $(seq 100); do
  left=()
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left+=("$pid"); done
  [ ${#left[@]} -eq 0 ] && break
  sleep 0.1
done
for pid in "${left[@]}"; do
  echo "slurm-down: pid $pid ignored SIGTERM, killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
done

# Put the configuration back as it was before up.sh.
if [ -e "$BACKUP" ]; then
  mv -f "$BACKUP" "$CONF"
elif [ -e "$STATE/conf-created" ] || { [ -e "$CONF" ] && head -n 1 "$CONF" | grep -qF "$MARK"; }; then
  rm -f "$CONF"
fi

rm -rf "$STATE" "$VAR"
echo "slurm-down: stopped ${stopped[*]:-nothing (nothing was running)}"
