# Throwaway single-node SLURM cluster on localhost for tests (bash, to be sourced). Every file
# it writes (config, munge key and socket, state, spool, logs, pid files) is in the folder given:
# nothing of the machine's setup is used or changed, and several clusters can run at once.
#   slurm_cluster_available || { echo "SKIP: ..."; exit 77; }
#   dir=$(mktemp -d); trap 'slurm_cluster_stop "$dir"; rm -rf "$dir"' EXIT
#   slurm_cluster_start "$dir" || exit 1    # exports SLURM_CONF for sbatch, squeue, scontrol
#   id=$(sbatch --parsable ...); slurm_wait_job "$id" 60 && slurm_job_states "$id"

# slurm_cluster_available: 0 if the daemons and commands are here, else a reason and 1.
slurm_cluster_available() {
  local b
  for b in munged slurmctld slurmd sbatch squeue scontrol scancel sinfo; do
    command -v "$b" >/dev/null 2>&1 || { echo "no $b (apt-get install slurm-wlm munge)"; return 1; }
  done
  # slurmd starts jobs as their user; SlurmUser=root keeps one user for daemons and jobs.
  [ "$(id -u)" = 0 ] || { echo "the SLURM test cluster runs its daemons as root"; return 1; }
}

# _slurm_free_port EXCLUDE: a random TCP port in 20000-59999 no socket uses, nor EXCLUDE.
_slurm_free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    [ "$port" = "${1:-}" ] && continue
    # ss sees every socket, also those not listening on 127.0.0.1; else ask the port itself.
    if command -v ss >/dev/null; then ss -Htan | awk '{print $4}' | grep -q ":$port\$" || break
    elif ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  done
  echo "$port"
}

# _slurm_pid DIR NAME: the pid of daemon NAME from its pid file in DIR/run, if that process is
# still NAME (not a reused pid) and no zombie (init may reap exited daemons only a while later).
_slurm_pid() {
  local pid
  pid=$(cat "$1/run/$2.pid" 2>/dev/null) && [ -n "$pid" ] || return 1
  awk -v n="($2)" '$2 == n && $3 != "Z" {ok = 1} END {exit !ok}' "/proc/$pid/stat" 2>/dev/null &&
    echo "$pid"
}

# slurm_cluster_start DIR: start munged, slurmctld and slurmd with all their files in DIR, wait
# until the node is idle (30 s at most). On failure: the daemons' logs on stderr, status 1.
slurm_cluster_start() {
  local dir node cpus mem cport dport d i
  dir=$(mkdir -p "$1" && cd "$1" && pwd) || { echo "slurm_cluster_start: no folder $1" >&2; return 1; }
  # munged refuses a socket in a folder that not everyone may enter (mktemp -d makes it 0700).
  mkdir -p "$dir"/{etc,spool,state,log,run} && chmod 0755 "$dir" "$dir"/run
  node=$(hostname -s 2>/dev/null || echo localhost) cpus=$(nproc)
  mem=$(awk '/^MemTotal:/ {m = int($2 / 1024); print (m > 2048 ? m - 1024 : int(m / 2))}' /proc/meminfo)
  cport=$(_slurm_free_port) && dport=$(_slurm_free_port "$cport")
  : >"$dir/etc/plugstack.conf"
  cat >"$dir/etc/slurm.conf" <<EOF
ClusterName=tritbench-test
# slurmctld accepts "localhost" as its own name; the address spares a lookup (which may be ::1).
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$cport
SlurmdPort=$dport
SlurmUser=root
# Our own munged (auth/munge and cred/munge of daemons and commands all use this socket).
AuthInfo=socket=$dir/run/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
# Log to the files above only, not to syslog; read no SPANK plugins from /etc/slurm.
SlurmctldSyslogDebug=quiet
SlurmdSyslogDebug=quiet
PlugStackConfig=$dir/etc/plugstack.conf
# No cgroups in a sandbox: track job processes through /proc, bind nothing, gather no usage.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
# FIFO; cores are what is allocated, so an --exclusive job holds the node and the next waits.
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# Scheduling runs every second and new batch jobs are not held back (defaults: 60 s, 3 s), so
# the next task of an exclusive array starts about a second after the previous one ends.
SchedulerParameters=sched_interval=1,batch_sched_delay=0
# Finished jobs stay in scontrol (the only record without accounting) for 5 minutes.
MinJobAge=300
# A node that was down (e.g. slurmd restarted) comes back by itself.
ReturnToService=2
# Trust the node line below, not the layout slurmd detects (sockets x cores differ from CPUs=);
# cancelled jobs get SIGKILL 2 s after SIGTERM (not 30); no mail (/bin/mail may be missing).
SlurmdParameters=config_overrides
KillWait=2
MailProg=/bin/true
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$dir/etc/slurm.conf
  dd if=/dev/urandom of="$dir/etc/munge.key" bs=1024 count=1 2>/dev/null && chmod 0400 "$dir/etc/munge.key"
  # The daemons fork themselves; their output goes to a file so as not to hold the test's stdout.
  # slurmctld -c: start from empty state, even if DIR held an earlier cluster.
  munged --socket="$dir/run/munge.sock" --key-file="$dir/etc/munge.key" \
    --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/run/munged.seed" </dev/null >>"$dir/log/start.log" 2>&1 &&
  slurmctld -f "$SLURM_CONF" -c </dev/null >>"$dir/log/start.log" 2>&1 &&
  slurmd -f "$SLURM_CONF" -N "$node" </dev/null >>"$dir/log/start.log" 2>&1 &&
  for ((i = 0; i < 150; i++)); do
    for d in munged slurmctld slurmd; do
      [ -s "$dir/run/$d.pid" ] && ! _slurm_pid "$dir" $d >/dev/null && break 2
    done
    [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && return 0
    sleep 0.2
  done
  echo "slurm_cluster_start: node not idle; sinfo: $(sinfo -h -o %T 2>&1); logs in $dir/log:" >&2
  for d in start munged slurmctld slurmd; do
    [ -s "$dir/log/$d.log" ] && { echo "--- $d.log" && tail -n 15 "$dir/log/$d.log"; } >&2
  done
  slurm_cluster_stop "$dir"
  return 1
}

# slurm_cluster_stop DIR: cancel what still runs, end the daemons, wait for them (10 s each,
# then SIGKILL). Does nothing for daemons already stopped, so it may be called twice.
slurm_cluster_stop() {
  local dir=$1 d i pid jobs
  # Jobs' processes belong to slurmstepd, which outlives slurmd: have SLURM end them first.
  if _slurm_pid "$dir" slurmctld >/dev/null && _slurm_pid "$dir" slurmd >/dev/null; then
    jobs=$(SLURM_CONF=$dir/etc/slurm.conf squeue -h -o %A 2>/dev/null | sort -u)
    # shellcheck disable=SC2086 # one word per job id
    [ -n "$jobs" ] && SLURM_CONF=$dir/etc/slurm.conf scancel $jobs 2>/dev/null
    for ((i = 0; i < 50; i++)); do   # KillWait=2: gone within a few seconds
      [ -z "$(SLURM_CONF=$dir/etc/slurm.conf squeue -h 2>/dev/null)" ] && break; sleep 0.2
    done
  fi
  for d in slurmd slurmctld munged; do
    pid=$(_slurm_pid "$dir" $d) || continue
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do _slurm_pid "$dir" $d >/dev/null || break; sleep 0.1; done
    _slurm_pid "$dir" $d >/dev/null && kill -KILL "$pid" 2>/dev/null
  done
  rm -f "$dir"/run/*.pid
  return 0
}

# slurm_wait_job JOBID TIMEOUT_S: wait until no task of the job is pending, running or
# completing; 1 if that takes longer than TIMEOUT_S seconds.
slurm_wait_job() {
  local i out
  for ((i = 0; i <= $2; i++)); do
    # Done when squeue lists nothing or has forgotten the job, not when slurmctld is silent.
    if out=$(squeue -h -j "$1" -o %i 2>&1); then [ -z "$out" ] && return 0
    else case $out in *"Invalid job id"*) return 0 ;; esac
    fi
    sleep 1
  done
  echo "slurm_wait_job: job $1 still queued after $2 s" >&2
  return 1
}

# slurm_job_states JOBID: "TASKID STATE EXITCODE" per array task by task id ("-" for a job that
# is no array), from scontrol, which remembers finished jobs for MinJobAge.
slurm_job_states() {
  scontrol -o show job "$1" | awk '{
    for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2) v[kv[1]] = kv[2]
    print ("ArrayTaskId" in v ? v["ArrayTaskId"] : "-"), v["JobState"], v["ExitCode"]; delete v
  }' | sort -n
}
