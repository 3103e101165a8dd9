#!/usr/bin/env bash
# A one-node SLURM cluster with accounting (slurmdbd + MariaDB) on this machine, for the SLURM tests
# (pytest -m slurm) and for maintainers. Run as root:
#   tests/slurm/cluster.sh up      # installs Debian's packages when missing, starts the daemons
#   tests/slurm/cluster.sh down    # stops what `up` started (by pid file); leaves no daemon
#   tests/slurm/cluster.sh status  # sinfo and sacct as the tests see them
#   eval "$(tests/slurm/cluster.sh env)"   # SLURM_CONF for sbatch/sacct/snakemake in this shell
# Everything lives in one state folder ($LANGREP_SLURM_DIR, default /tmp/langrep-slurm): slurm.conf,
# slurmdbd.conf, the munge key and socket, MariaDB's data, spool, logs and pid files. Outside it only
# slurmd's link /run/slurm/conf (to its config cache, removed by `down`); nothing in /etc: the tools
# and daemons read $SLURM_CONF, and srun inside a job the cached copy (configless mode).
# Both commands are idempotent: `up` on a running cluster only checks it, `down` on none does nothing.
set -euo pipefail

STATE=${LANGREP_SLURM_DIR:-/tmp/langrep-slurm}
CLUSTER=langrep
ACCOUNT=langrep
DB_PORT=${LANGREP_SLURM_DB_PORT:-3316}
export SLURM_CONF=$STATE/slurm.conf
PACKAGES=(slurmctld slurmd slurm-client munge slurmdbd mariadb-server)
# daemons in start order (down stops them in reverse)
DAEMONS=(munged mariadbd slurmdbd slurmctld slurmd)

log() { echo "cluster.sh: $*" >&2; }
die() {
    log "$*"
    exit 1
}

pid_alive() { # pid file -> true if its process runs
    [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

wait_for() { # seconds, description, command...
    local secs=$1 what=$2
    shift 2
    for ((i = 0; i < secs * 4; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.25
    done
    die "$what did not come up within ${secs}s (logs: $STATE/log/, $STATE/munge/, $STATE/mysql/)"
}

install_packages() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # install first from the lists there are; update them only when that fails (none, or stale)
    apt-get install -y -q --no-install-recommends "${missing[@]}" >"$STATE/log/apt.log" 2>&1 ||
        { apt-get update -q >>"$STATE/log/apt.log" 2>&1 &&
            apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$STATE/log/apt.log" 2>&1; } ||
        die "apt-get install failed: $STATE/log/apt.log"
}

write_configs() {
    local host mem_kb
    host=$(hostname -s)
    mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
    mkdir -p "$STATE"/{log,run,ctld,slurmd,munge,mysql}
    chown slurm:slurm "$STATE/ctld" "$STATE/log" "$STATE/run"
    chown munge:munge "$STATE/munge"
    chmod 711 "$STATE/munge" # the socket must be reachable, the key stays 0400
    chown mysql:mysql "$STATE/mysql"
    cat >"$STATE/slurm.conf" <<EOF
# written by tests/slurm/cluster.sh: a one-node test cluster with accounting
ClusterName=$CLUSTER
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# short test jobs: a job's memory is sampled every second (sacct MaxRSS); a finished job stays in
# squeue for SLURM's default 300 s, longer than the plugin's longest pause between status queries
# (180 s), since profiles/slurm reads job states with squeue (sacct has them for good)
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=1
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoreFlags=job_comment
AccountingStorageEnforce=associations
JobCompType=jobcomp/none
MinJobAge=300
# configless: slurmd fetches this file from slurmctld and caches it ($STATE/slurmd/conf-cache, linked
# from /run/slurm/conf), where srun inside a job finds it: the SLURM jobstep plugin (0.6) runs srun
# with every SLURM_* variable but the job's identity removed, SLURM_CONF included
SlurmctldParameters=enable_configless
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=$((mem_kb * 85 / 100 / 1024)) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    if [[ ! -s $STATE/dbpass ]]; then
        (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$STATE/dbpass")
    fi
    (umask 077 && cat >"$STATE/slurmdbd.conf" <<EOF
# written by tests/slurm/cluster.sh
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=slurm
PidFile=$STATE/run/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$(cat "$STATE/dbpass")
StorageLoc=slurm_acct_db
EOF
    )
    chown slurm:slurm "$STATE/slurmdbd.conf"
    chmod 600 "$STATE/slurmdbd.conf"
    if [[ ! -s $STATE/munge/munge.key ]]; then
        (umask 077 && head -c 1024 /dev/urandom >"$STATE/munge/munge.key")
        chown munge:munge "$STATE/munge/munge.key"
        chmod 400 "$STATE/munge/munge.key"
    fi
}

start_munged() {
    pid_alive "$STATE/munge/munged.pid" && return 0
    # SLURM's clients find munged only at its default socket (slurm.conf's AuthInfo is not used by all)
    mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
    setpriv --reuid=munge --regid=munge --init-groups munged --key-file="$STATE/munge/munge.key" --socket=/run/munge/munge.socket.2 \
        --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/munge/munged.log" \
        --seed-file="$STATE/munge/munged.seed" --force
    wait_for 10 munged sh -c "munge -n | unmunge"
}

db() { mariadb --protocol=socket --socket="$STATE/mysql/mysqld.sock" -uroot "$@"; }

start_mariadbd() {
    pid_alive "$STATE/mysql/mariadbd.pid" && return 0
    if [[ ! -d $STATE/mysql/mysql ]]; then
        mariadb-install-db --user=mysql --datadir="$STATE/mysql" --auth-root-authentication-method=socket \
            --skip-test-db >"$STATE/log/mariadb-install.log" 2>&1 || die "mariadb-install-db: $STATE/log/mariadb-install.log"
    fi
    # --no-defaults: none of the system's my.cnf (its socket, port and data folder are the system's)
    mariadbd --no-defaults --user=mysql --datadir="$STATE/mysql" --socket="$STATE/mysql/mysqld.sock" \
        --pid-file="$STATE/mysql/mariadbd.pid" --bind-address=127.0.0.1 --port="$DB_PORT" \
        --log-error="$STATE/mysql/mariadbd.log" --innodb-buffer-pool-size=64M --skip-name-resolve \
        >/dev/null 2>&1 &
    disown
    wait_for 60 mariadbd db -e 'SELECT 1'
    local pass
    pass=$(cat "$STATE/dbpass")
    db -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
        ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
}

start_slurmdbd() {
    pid_alive "$STATE/run/slurmdbd.pid" && return 0
    slurmdbd
    wait_for 30 slurmdbd sacctmgr -n show cluster
}

start_slurmctld() {
    pid_alive "$STATE/run/slurmctld.pid" && return 0
    sacctmgr -i -Q add cluster "$CLUSTER" >/dev/null 2>&1 || true
    slurmctld
    wait_for 30 slurmctld scontrol ping
}

start_slurmd() {
    pid_alive "$STATE/run/slurmd.pid" && return 0
    mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup || die "slurmd needs /sys/fs/cgroup"
    env -u SLURM_CONF slurmd --conf-server 127.0.0.1
}

add_association() {
    sacctmgr -i -Q add account "$ACCOUNT" cluster="$CLUSTER" description=langrep-tests organization=langrep \
        >/dev/null 2>&1 || true
    local user
    user=${SUDO_USER:-$(id -un)}
    for u in root "$user"; do
        sacctmgr -i -Q add user "$u" account="$ACCOUNT" defaultaccount="$ACCOUNT" cluster="$CLUSTER" \
            >/dev/null 2>&1 || true
    done
    sacctmgr -n -P show assoc cluster="$CLUSTER" account="$ACCOUNT" user=root format=user | grep -q root ||
        die "the account $ACCOUNT has no association for root"
}

node_idle() { [[ $(sinfo -h -N -o '%T' 2>/dev/null) == idle* ]]; }

up() {
    [[ $(id -u) == 0 ]] || die "run as root (it installs packages and starts daemons)"
    mkdir -p "$STATE/log"
    install_packages
    write_configs
    start_munged
    start_mariadbd
    start_slurmdbd
    start_slurmctld
    add_association
    start_slurmd
    # a node that was down (an earlier run's slurmd killed) comes back on its own (ReturnToService=2)
    scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
    wait_for 60 "an idle node" node_idle
    wait_for 30 sacct sacct -n -X -S now-1minutes
    log "up: $(sinfo -h -o '%P %D %T %c CPUs %m MB'); SLURM_CONF=$SLURM_CONF"
}

down() {
    local stopped=()
    # jobs still queued or running end with the cluster (their job steps would outlive slurmd)
    if pid_alive "$STATE/run/slurmctld.pid"; then
        local jobs
        jobs=$(squeue -h -o %i 2>/dev/null || true)
        if [[ -n $jobs ]]; then
            scancel $jobs 2>/dev/null || true
            for ((t = 0; t < 120 && $(squeue -h -o %i 2>/dev/null | wc -l) > 0; t++)); do sleep 0.25; done
        fi
    fi
    for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
        local d=${DAEMONS[i]} pidfile
        pidfile=$STATE/run/$d.pid
        [[ $d == munged ]] && pidfile=$STATE/munge/munged.pid
        [[ $d == mariadbd ]] && pidfile=$STATE/mysql/mariadbd.pid
        pid_alive "$pidfile" || continue
        local pid
        pid=$(cat "$pidfile")
        kill "$pid"
        for ((t = 0; t < 120; t++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "$d ($pid) did not stop in 30s: killing it"
            kill -9 "$pid"
        fi
        stopped+=("$d")
    done
    # the link slurmd made to its config cache (configless); only if it points into our state
    if [[ -L /run/slurm/conf && $(readlink /run/slurm/conf) == "$STATE"/* ]]; then
        rm -f /run/slurm/conf
        rmdir /run/slurm 2>/dev/null || true
    fi
    log "down: stopped ${stopped[*]:-nothing}"
}

case ${1:-} in
up) up ;;
down) down ;;
status)
    sinfo
    sacct -X -a -S now-1hours -o JobID,JobName%30,State,ReqMem,ReqCPUS,Elapsed
    ;;
env) echo "export SLURM_CONF=$SLURM_CONF" ;;
*) die "usage: $0 up|down|status|env" ;;
esac
