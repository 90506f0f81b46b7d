#!/usr/bin/env bash
# A real single-node SLURM cluster with slurmdbd + MariaDB accounting, for CI (Debian 12,
# root, no systemd needed). All traffic stays on loopback: SLURM's daemons are reached at
# 127.0.0.1, MariaDB listens on its unix socket only, munge on its unix socket.
#
#   .ci/slurm-cluster.sh up       install (apt) if needed, configure, start; fast if running
#   .ci/slurm-cluster.sh status   daemons, node state, queue
#   .ci/slurm-cluster.sh down     stop the daemons by the PIDs in their pid files
#
# Environment: SLURM_CPUS (default: nproc), SLURM_PARTITION_NAME (default: debug).
# Why sacct/slurmdbd: snakemake-executor-plugin-slurm polls with sacct whenever the binary
# exists, and without accounting sacct fails and the workflow never finishes.
set -euo pipefail

CLUSTER=localcluster
PARTITION=${SLURM_PARTITION_NAME:-debug}
HOST=$(hostname -s)
CONF_DIR=/etc/slurm
LOG_DIR=/var/log/slurm
DB_PASS=floss-ci-throwaway   # MariaDB runs with --skip-networking; local throwaway user

MUNGE_PID=/run/munge/munged.pid
MYSQL_PID=/run/mysqld/mysqld.pid
DBD_PID=/run/slurmdbd.pid
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
PACKAGES=(munge mariadb-server slurmctld slurmd slurm-client slurmdbd)

log() { printf '[slurm-cluster %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# PID from a pid file if that process is alive, else nothing (and status 1).
alive_pid() {
    local file=$1 pid
    [[ -s $file ]] || return 1
    pid=$(tr -dc '0-9' <"$file")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.5 s until COMMAND succeeds.
wait_for() {
    local limit=$1 what=$2; shift 2
    local end=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < end)) || die "timed out after ${limit}s waiting for $what"
        sleep 0.5
    done
}

node_idle() { [[ $(sinfo -h -n "$HOST" -o %t 2>/dev/null) =~ ^(idle|mix|alloc)$ ]]; }

all_running() {
    alive_pid $MUNGE_PID && alive_pid $MYSQL_PID && alive_pid $DBD_PID &&
        alive_pid $CTLD_PID && alive_pid $SLURMD_PID && node_idle
}

install_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # postinst scripts try to start services; without an init system that fails harmlessly
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

slurm_conf() {
    local cpus=${SLURM_CPUS:-$(nproc)} mem
    # RealMemory must not exceed the real memory, or the node drains ("Low RealMemory")
    mem=$(($(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo) - 1024))
    cat <<EOF
# written by .ci/slurm-cluster.sh: single-node CI cluster on loopback
ClusterName=$CLUSTER
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# without a default, a job without --mem takes the whole node
DefMemPerCPU=1000
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/linux
# keep sbatch --comment in the database (the snakemake plugin writes rule_<name> there)
AccountingStoreFlags=job_comment
ReturnToService=2
# listen on the addresses given above (127.0.0.1), not on every interface
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
MinJobAge=600
# SLURM_CPUS may exceed the cores (CI declares 2x nproc so that jobs waiting on I/O and
# start-up overlap); config_overrides keeps slurmd from draining the node for that
SlurmdParameters=config_overrides
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

slurmdbd_conf() {
    cat <<EOF
# written by .ci/slurm-cluster.sh
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
CommunicationParameters=NoInAddrAny
SlurmUser=slurm
LogFile=$LOG_DIR/slurmdbd.log
PidFile=$DBD_PID
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
}

configs_current() {
    [[ $(slurm_conf) == "$(cat $CONF_DIR/slurm.conf 2>/dev/null)" ]] &&
        [[ $(slurmdbd_conf) == "$(cat $CONF_DIR/slurmdbd.conf 2>/dev/null)" ]]
}

write_configs() {
    mkdir -p "$CONF_DIR" "$LOG_DIR" /var/spool/slurmctld /var/spool/slurmd
    chown slurm: "$LOG_DIR" /var/spool/slurmctld
    slurm_conf >"$CONF_DIR/slurm.conf"
    slurmdbd_conf >"$CONF_DIR/slurmdbd.conf"
    chown slurm: "$CONF_DIR/slurmdbd.conf"
    chmod 600 "$CONF_DIR/slurmdbd.conf"
}

start_munge() {
    alive_pid $MUNGE_PID >/dev/null && return 0
    mkdir -p /run/munge
    chown munge: /run/munge
    chmod 755 /run/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        runuser -u munge -- mungekey --create
    fi
    runuser -u munge -- munged --force
    wait_for 10 munged alive_pid $MUNGE_PID
}

start_mariadb() {
    if ! alive_pid $MYSQL_PID >/dev/null; then
        mkdir -p /run/mysqld
        chown mysql: /run/mysqld
        if [[ ! -d /var/lib/mysql/mysql ]]; then
            mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
        fi
        setsid mariadbd --user=mysql --skip-networking --pid-file=$MYSQL_PID \
            </dev/null >>"$LOG_DIR/mariadb.log" 2>&1 &
        wait_for 30 mariadbd mariadb-admin ping
    fi
    mariadb -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
}

start_slurmdbd() {
    if ! alive_pid $DBD_PID >/dev/null; then
        slurmdbd
        wait_for 20 slurmdbd alive_pid $DBD_PID
    fi
    wait_for 20 "sacctmgr to reach slurmdbd" sacctmgr -n list cluster
    if [[ -z $(sacctmgr -n -P list cluster format=cluster where cluster=$CLUSTER) ]]; then
        sacctmgr -i add cluster $CLUSTER >/dev/null
    fi
}

start_slurm() {
    if ! alive_pid $CTLD_PID >/dev/null; then
        slurmctld
        wait_for 30 slurmctld scontrol ping
    fi
    if ! alive_pid $SLURMD_PID >/dev/null; then
        slurmd -N "$HOST"
        wait_for 20 slurmd alive_pid $SLURMD_PID
    fi
    local end=$((SECONDS + 30)) state
    until node_idle; do
        state=$(sinfo -h -n "$HOST" -o %t 2>/dev/null || true)
        # a node left down/drained by an earlier run: bring it back
        if [[ $state =~ ^(down|drain|drng|fail) ]]; then
            scontrol update nodename="$HOST" state=resume 2>/dev/null || true
        fi
        ((SECONDS < end)) || die "node $HOST not idle (state: ${state:-?}); see $LOG_DIR"
        sleep 0.5
    done
}

cmd_up() {
    [[ $(id -u) == 0 ]] || die "must run as root"
    if all_running >/dev/null 2>&1; then
        if configs_current; then
            log "already running"
            return 0
        fi
        log "configuration changed: restarting"
        cmd_down
    fi
    install_packages
    write_configs
    start_munge
    start_mariadb
    start_slurmdbd
    start_slurm
    # end-to-end check: a job step runs and accounting answers
    timeout -k 5 60 srun -N1 -n1 -t 1 true
    sacct -n -X -o JobID >/dev/null
    log "up: node $HOST, partition $PARTITION"
}

# stop_pids NAME:PIDFILE...: SIGTERM to the PID in each file, wait up to 20 s for all,
# then SIGKILL what is left. Only those PIDs are signalled.
stop_pids() {
    local item pid i pids=() names=()
    for item in "$@"; do
        if pid=$(alive_pid "${item#*:}"); then
            log "stopping ${item%%:*} (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
            names+=("${item%%:*}")
        fi
    done
    for ((i = 0; i < 100; i++)); do
        local left=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left=1; done
        ((left)) || break
        sleep 0.2
    done
    for i in "${!pids[@]}"; do
        if kill -0 "${pids[$i]}" 2>/dev/null; then
            log "${names[$i]} did not stop; SIGKILL"
            kill -KILL "${pids[$i]}" 2>/dev/null || true
        fi
    done
    for item in "$@"; do rm -f "${item#*:}"; done
}

cmd_down() {
    # jobs left over (e.g. from a killed snakemake): cancel them, or their slurmstepd and
    # processes would outlive slurmd
    if alive_pid $CTLD_PID >/dev/null && [[ -n $(squeue -h -o %i 2>/dev/null) ]]; then
        log "cancelling jobs: $(squeue -h -o %i | tr '\n' ' ')"
        scancel --full $(squeue -h -o %i) 2>/dev/null || true
        local end=$((SECONDS + 20))
        while [[ -n $(squeue -h -o %i 2>/dev/null) ]] && ((SECONDS < end)); do sleep 0.5; done
    fi
    # clients before servers: slurmd and slurmctld, then slurmdbd, then its database and munge
    stop_pids slurmd:$SLURMD_PID slurmctld:$CTLD_PID
    stop_pids slurmdbd:$DBD_PID
    stop_pids mariadbd:$MYSQL_PID munged:$MUNGE_PID
    log "down"
}

cmd_status() {
    local name file pid rc=0
    for name in munged:$MUNGE_PID mariadbd:$MYSQL_PID slurmdbd:$DBD_PID \
        slurmctld:$CTLD_PID slurmd:$SLURMD_PID; do
        file=${name#*:}
        if pid=$(alive_pid "$file"); then
            echo "${name%%:*}: running (pid $pid)"
        else
            echo "${name%%:*}: stopped"
            rc=1
        fi
    done
    if ((rc == 0)); then
        sinfo
        squeue
    fi
    return $rc
}

case ${1:-} in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 up|down|status" >&2
        exit 2
        ;;
esac
