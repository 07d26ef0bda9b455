// tritbench report: result documents (files or folders, see result_set.h) turned into a
// Markdown report with figures. Measuring and drawing stay separate steps: the report writes
// the figures' data files into the output folder and runs gnuplot on the scripts of plots/
// (one script per figure kind, given data, out and title with -e).
#ifndef TB_REPORT_H
#define TB_REPORT_H

#include "runners.h"

#include <cjson/cJSON.h>

typedef struct {
    const char *const *inputs; // result files or folders
    int ninputs;
    const char *out_dir;   // where report.md, the data files and the PNGs go (created)
    const char *published; // folder of the published tables (*.tsv); NULL: none
    const char *plots;     // folder of the gnuplot scripts
    const char *gnuplot;   // the gnuplot program (a name found on PATH, or a path)
} tb_report_params;
// Defaults: out_dir "report", published "experiments/published", plots "plots" (each, where
// the working folder has none: that of the sources built from), gnuplot "gnuplot" (or
// $TRITBENCH_GNUPLOT when set).
void tb_report_defaults(tb_report_params *p);

// Reads the results and the published tables, writes the figures' data files and PNGs, then
// report.md, each atomically (report.md last: a failure leaves no new report.md). Without
// gnuplot the report is still written and says why it has no figures. Returns TB_OK with *doc
// = {"report": path, "cpus": [...], "documents": n, "figures": {"available": bool, "reason"},
// "files": [every file written]}; or TB_BAD_INPUT with *doc NULL and err naming the file and
// field (malformed result or table) or the failing gnuplot script.
int tb_report_run(const tb_report_params *p, cJSON **doc, tb_error *err);

#endif
