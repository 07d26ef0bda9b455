// `tritbench run EXPERIMENT --slurm`: one experiment on many machines through SLURM. tritbench
// writes a readable sbatch script for a job array and submits it once per partition (a
// partition is one node kind on the clusters where CPUs of many kinds sit side by side), so
// every array task measures its own node's CPU and writes RESULTS/<cpu>/<experiment>/ into one
// shared results folder; `tritbench fleet status`, `report` and `compare` then read that folder.
//
//   array task t of a partition's job:  shard   = t / len(variants)   (which share of the
//                                       variant = t % len(variants)    points, which ISA mask)
//
// Nodes of one partition share the experiment's points (`run --shard I/N`), each node a
// different share, rather than all measuring the same points: nodes of one kind give the same
// figures, and two writers of one point would keep only the last. A variant is a
// TRITBENCH_DISABLE set: the node measured as if its CPU lacked those features, in its own
// results folder (<cpu>-without-<features>, see info.h); "" is the whole CPU.
#ifndef TB_SLURM_H
#define TB_SLURM_H

#include "runners.h"

#include <cjson/cJSON.h>

#define TB_SLURM_VARIANTS_MAX   8
#define TB_SLURM_PARTITIONS_MAX 16

typedef struct {
    const char *experiment;  // a name (experiments/NAME.ini) or a file; checked here first
    const char *results_dir; // the shared results folder (every node must see it at this path)
    const char *partitions;  // comma list; NULL: the cluster's default partition, one job
    int nodes_per_partition; // array tasks per partition and variant (>= 1)
    const char *time_limit;  // sbatch --time ("2:00:00")
    const char *binary;      // a tritbench every node can run; NULL: this program
    const char *build;       // or a source tree every node builds (meson) before running
    const char *variants;    // ';'-separated TRITBENCH_DISABLE sets; NULL: one, the whole CPU
    const char *only;        // passed to `run --only`
    int force;               // passed to `run --force`
    int dry_run;             // write the script and print it; submit nothing
    const char *script;      // where the script goes; NULL: RESULTS/slurm-jobs/EXP-STAMP.sbatch
    const char *sbatch;      // the sbatch program (NULL: "sbatch" on PATH)
} tb_slurm_params;
void tb_slurm_defaults(tb_slurm_params *p);

// Checks everything (experiment, folders, partition names, variants' features, binary or
// source tree), writes the script atomically and, unless a dry run, submits it with sbatch once
// per partition. *doc = {"kind": "slurm-submission", "experiment", "experiment_file", "results",
// "script", "dry_run", "tasks_per_job", "variants": [...], "jobs": [{"partition", "job_id"}],
// "follow": [commands]}. TB_OK; TB_BAD_INPUT with *doc NULL and err naming the problem; or
// TB_CHECK_FAILED when sbatch refused a submission (*doc lists those that went through, err
// says why the other failed).
int tb_slurm_submit(const tb_slurm_params *p, cJSON **doc, tb_error *err);

#endif
