// Fuzz target: an experiment file (tb_experiment_load: the INI syntax through inih, every
// section, key, value, kernel and model checked) and its expansion into points.
#include "experiment.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file_write(data, size, ".ini");
    // Large (about a MB with the points): allocated once, as a fresh allocation of that size
    // costs a page fault per page on every input and the run would be five times slower.
    static tb_experiment e_store;
    static tb_point points[TB_EXP_POINTS_MAX];
    tb_experiment *e = &e_store;
    tb_error err;
    if (tb_experiment_load(path, NULL, e, &err) == TB_OK)
        tb_experiment_points(e, points, TB_EXP_POINTS_MAX);
    return 0;
}
