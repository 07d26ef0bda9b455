// Fuzz target: a tune file (tb_tune_load: the JSON, kind, fingerprint, every regime's times
// and choices, the driver parameters), then the lookups dispatch makes in what it accepted.
#include "fuzz_file.h"
#include "tune_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file_write(data, size, ".json");
    tb_tune t;
    char err[700];
    if (tb_tune_load(path, &t, err, sizeof err) != 0) return 0;
    char why[400];
    tb_tune_matches(t.fingerprint, why, sizeof why);
    tb_tune_pick pick;
    for (int threads = 1; threads <= 4; threads++)
        for (int prompt = 1; prompt <= 512; prompt *= 8)
            if (tb_tune_pick_engine(&t, threads, prompt, &pick, why, sizeof why) == 0) {
                tb_driver_params dp;
                tb_tune_pick_driver(&t, pick.decode, threads, &dp, why, sizeof why);
            }
    tb_tune_free(&t);
    return 0;
}
