// Fuzz target: a result document as `tritbench compare` and `tritbench report` read it
// (tb_result_set_read: the JSON, the schema, the top-level fields), its point id, and
// `compare` of the document against itself (every entry of its kind read and matched).
#include "compare.h"
#include "fuzz_file.h"
#include "result_set.h"

#include <cjson/cJSON.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file_write(data, size, ".json");
    tb_result_set set;
    tb_error err;
    if (tb_result_set_read(path, 0, &set, &err) != TB_OK) return 0;
    char id[512];
    for (int i = 0; i < set.nfiles; i++) tb_result_point_id(&set.files[i], id, sizeof id, &err);
    tb_result_set_free(&set);
    tb_compare_params p;
    tb_compare_defaults(&p);
    p.base_path = p.new_path = path;
    cJSON *doc = NULL;
    tb_compare_run(&p, &doc, &err);
    cJSON_Delete(doc);
    return 0;
}
