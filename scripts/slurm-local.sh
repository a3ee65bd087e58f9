#!/usr/bin/env bash
# A real single-node SLURM on this machine, for `theory sweep` (README "Sharded sweeps (SLURM)").
#
#   scripts/slurm-local.sh start    install slurm-wlm + munge if missing (apt-get, needs root), write a one-node
#                                   /etc/slurm/slurm.conf for localhost, start munged, slurmctld, slurmd, and wait
#                                   until `sinfo` shows the node idle (idempotent: a running cluster is left as it is)
#   scripts/slurm-local.sh stop     stop the three daemons started by `start` (by the pids they recorded)
#   scripts/slurm-local.sh status   sinfo and squeue
#
# The node is NodeName=localhost with this machine's CPUs and memory (`slurmd -C`), one partition `local`, no
# accounting, proctrack/linuxproc, task/none, select/cons_tres with CR_CPU. State lives under /var/spool/slurm-local,
# logs under /var/log/slurm-local. The configuration file carries a marker line; a slurm.conf without it is kept as
# slurm.conf.bak before it is replaced.
set -euo pipefail

CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
MARKER="# written by theory scripts/slurm-local.sh"
STATE=/var/spool/slurm-local
LOGS=/var/log/slurm-local
RUN=/run/slurm-local

log() { echo "slurm-local: $*" >&2; }

need_root() {
    if [ "$(id -u)" != 0 ]; then log "run as root (installs packages, writes $CONF, starts daemons)"; exit 1; fi
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_packages() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then
        return
    fi
    log "installing slurm-wlm and munge (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge >/dev/null
}

write_conf() {
    local node
    node=$(slurmd -C | head -1 | sed -e 's/^NodeName=[^ ]* //')   # CPUs=.. Boards=.. ... RealMemory=..
    mkdir -p "$CONF_DIR" "$STATE/ctld" "$STATE/d" "$LOGS" "$RUN"
    local tmp
    tmp=$(mktemp "$CONF_DIR/slurm.conf.XXXXXX")
    cat >"$tmp" <<EOF
$MARKER
ClusterName=theory-local
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
MinJobAge=3600
NodeName=localhost NodeAddr=127.0.0.1 $node State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
    if [ -f "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
        log "keeping the existing $CONF as $CONF.bak"
        cp -p "$CONF" "$CONF.bak"
    fi
    if [ -f "$CONF" ] && cmp -s "$tmp" "$CONF"; then rm -f "$tmp"; else mv "$tmp" "$CONF"; chmod 644 "$CONF"; fi
}

start_munge() {
    if [ ! -s /etc/munge/munge.key ]; then
        log "creating /etc/munge/munge.key"
        if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key --force
        else dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; fi
        chown munge:munge /etc/munge/munge.key
        chmod 400 /etc/munge/munge.key
    fi
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    if alive /run/munge/munged.pid && munge -n >/dev/null 2>&1; then return; fi
    log "starting munged"
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    for _ in $(seq 50); do munge -n >/dev/null 2>&1 && return; sleep 0.1; done
    log "munged did not answer"; exit 1
}

start_slurm() {
    if ! alive "$RUN/slurmctld.pid"; then
        log "starting slurmctld"
        /usr/sbin/slurmctld -f "$CONF"
    fi
    for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
    if ! alive "$RUN/slurmd.pid"; then
        log "starting slurmd (node localhost)"
        /usr/sbin/slurmd -f "$CONF" -N localhost
    fi
}

wait_idle() {
    local state=""
    for i in $(seq 120); do
        state=$(sinfo -h -N -n localhost -o %t 2>/dev/null | head -1 || true)
        case "$state" in
            idle|mix|alloc) log "node localhost is $state"; return 0 ;;
            down*|drain*|unk*|"") if [ $((i % 10)) = 0 ]; then scontrol update nodename=localhost state=resume 2>/dev/null || true; fi ;;
        esac
        sleep 0.5
    done
    log "node localhost did not become idle (state '$state'); logs in $LOGS"; exit 1
}

stop_pid() {
    local name=$1 pidfile=$2
    if alive "$pidfile"; then
        local pid
        pid=$(cat "$pidfile")
        log "stopping $name (pid $pid)"
        kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
}

case "${1:-start}" in
    start)
        need_root
        install_packages
        write_conf
        start_munge
        start_slurm
        wait_idle
        sinfo
        ;;
    stop)
        need_root
        stop_pid slurmd "$RUN/slurmd.pid"
        stop_pid slurmctld "$RUN/slurmctld.pid"
        stop_pid munged /run/munge/munged.pid
        ;;
    status)
        sinfo && squeue
        ;;
    *)
        echo "usage: $0 start|stop|status" >&2
        exit 2
        ;;
esac
