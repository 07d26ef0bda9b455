// tritbench info: this machine's fingerprint, as every result records it.
#include "info.h"
#include "runners.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tb_info_run(const tb_info_params *p, cJSON **doc, tb_error *err)
{
    *doc = NULL;
    if (p->cpuinfo && access(p->cpuinfo, R_OK) != 0)
        return tb_fail(err, "--cpuinfo %s: %s", p->cpuinfo, strerror(errno));
    struct stat st;
    if (p->sysfs && (stat(p->sysfs, &st) != 0 || !S_ISDIR(st.st_mode)))
        return tb_fail(err, "--sysfs %s: not a folder", p->sysfs);
    *doc = tb_info_collect(p->cpuinfo, p->sysfs);
    return *doc ? TB_OK : tb_fail(err, "out of memory");
}
