// `tritbench fleet status RESULTS`: which CPUs (and nodes) of a shared results folder have
// finished which points of which experiment, from the result documents and the runs' status
// files (experiments/run_status.h) found below RESULTS.
//
// A point of an experiment is, on each CPU:
//   done          its result document is there (a "failed" check inside it: check-failed)
//   skipped       its document says it was too large for the machine
//   failed        a run tried it and the runner failed (reason from the run's status)
//   running       a run still marked running is on it (or died on it: see the run's "updated")
//   not reached   planned by a run that stopped or is still going, never started
//   missing       part of the experiment (planned by another CPU's run, or by another shard of
//                 this CPU: experiment_points), never planned by a run of this CPU
// Where several runs (hosts, shards, reruns) say different things, a result document wins,
// then running, failed, not reached.
#ifndef TB_FLEET_STATUS_H
#define TB_FLEET_STATUS_H

#include "runners.h"

#include <cjson/cJSON.h>

// Reads every experiment folder below path (a RESULTS folder, one CPU's, or one experiment's):
// a folder with a TB_RUN_STATUS_DIR of status files, or with point documents. *doc =
// {"kind": "fleet-status", "path", "complete": bool, "experiments": [{"experiment",
// "points": n (every key any CPU planned or did), "cpus": [{"cpu", "folder", "done",
// "check_failed", "skipped", "failed", "running", "not_reached", "missing",
// "runs": [{"host", "shard", "state", "started", "updated", "slurm_job"}],
// "unfinished": [{"key", "status", "reason"}]}]}]}. TB_OK; TB_BAD_INPUT when path is not a
// folder, holds no experiment folder, or a status file is malformed (named with its field).
int tb_fleet_status(const char *path, cJSON **doc, tb_error *err);

#endif
