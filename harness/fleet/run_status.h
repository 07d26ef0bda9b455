// The state of one `tritbench run`, kept beside its results so that `tritbench fleet status`
// and the report can tell, for every CPU of a shared results folder, which points a run meant
// to do, which it did, which failed and why, and which a killed node never reached:
//
//   FOLDER/.runs/HOST.json              (FOLDER = RESULTS/<cpu>/<experiment>; hidden, so
//   FOLDER/.runs/HOST-shard-2-of-4.json  readers of result documents never take it for one)
//
//   {"schema": "tritbench-run-status/1", "experiment", "file", "revision", "cpu_slug", "host",
//    "pid", "shard": {"index", "count"}, "slurm": {...} (info.slurm), "started", "updated",
//    "state": "running" | "finished",
//    "experiment_points": [every key of the experiment this run's --only selects, all shards],
//    "points": [{"key", "status": "planned" | "running" | "done" | "kept" | "skipped" |
//                "failed" | "check-failed", "reason"?}]}
//
// Rewritten atomically when the run starts and after every point, so what a node leaves
// behind when it dies is its last finished point ("state": "running" and a stale "updated").
// A rerun on the same host (and shard) replaces it.
#ifndef TB_RUN_STATUS_H
#define TB_RUN_STATUS_H

#include <cjson/cJSON.h>

#define TB_RUN_STATUS_SCHEMA "tritbench-run-status/1"
#define TB_RUN_STATUS_DIR    ".runs"

typedef struct {
    cJSON *doc;
    char path[1200];
} tb_run_status;

// Starts the status of a run of experiment (its name and file) into folder, shard index of
// count (0 of 1: unsharded), with the keys it will run (keys[i] with mine[i] set) among all
// the experiment's keys it selected. Writes it; on a write failure the run
// goes on without a status (a line on stderr), as a results folder it can write to matters more.
void tb_run_status_start(tb_run_status *s, const char *folder, const char *experiment,
                         const char *file, int shard, int nshards, const char *const *keys,
                         const int *mine, int n);
// Marks point key with status (and reason, "" for none), and writes the file.
void tb_run_status_point(tb_run_status *s, const char *key, const char *status, const char *reason);
// Marks the run finished, writes the file and frees s.
void tb_run_status_finish(tb_run_status *s);

#endif
