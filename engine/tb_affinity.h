// Thread pinning, on request: TRITBENCH_PIN=cores puts thread t of every pool on the t-th
// physical core this process may run on (one logical CPU per core, SMT siblings left idle), so
// a measurement on an exclusive node (a fleet run, `tritbench run --slurm`) is not moved
// between cores or doubled up on one core's two hyperthreads by the scheduler. Unset (the
// default): threads float, as on a shared workstation where pinning would fight other work.
#ifndef TB_AFFINITY_H
#define TB_AFFINITY_H

// "cores" when TRITBENCH_PIN=cores, else "no" (read once).
const char *tb_pinning(void);

// Pins the calling thread to core t (mod the number of cores) when pinning is on. 0 when
// pinned or pinning is off; -1 when the system refused (the thread then floats).
int tb_pin_current_thread(int t);

#endif
