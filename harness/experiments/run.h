// tritbench run: an experiment's points, each one result document under
// results/<cpu>/<experiment>/, resumable point by point.
#ifndef TB_RUN_H
#define TB_RUN_H

#include "experiment.h"

typedef struct {
    const char *experiment;  // a name (experiments/NAME.ini) or a file
    const char *results_dir; // default "results"
    int force;               // redo points already done with this configuration and revision
    int dry_run;             // list the points, their memory and a time estimate; run nothing
    const char *only;        // run only points whose key starts with one of these prefixes
                             // (comma-separated; NULL: all)
    int shard, nshards;      // of the points `only` selects, run only the i-th with
                             // i % nshards == shard (0 of 1: all), so nodes of one kind share
                             // an experiment (`run --slurm`)
} tb_run_params;
void tb_run_defaults(tb_run_params *p);

// The run's document: {experiment, file, description, folder, points: [{key, status ("done",
// "kept": done before with the same configuration and revision, "skipped": too large,
// "failed", "check-failed", "planned": dry run), file, bytes_needed, seconds_estimate,
// seconds, layer_sampled, reason}], summary {done, kept, skipped, failed}}. Unless a dry run,
// the run's state is kept beside the results as it goes (run_status.h), for `fleet status`.
// TB_CHECK_FAILED when a point failed; TB_BAD_INPUT (no document) for a bad experiment file.
int tb_run_experiment(const tb_run_params *p, const tb_observer *obs, cJSON **doc, tb_error *err);

#endif
