// RAPL energy reader against fixture powercap trees: normal, wrap-around, unreadable and
// missing energy_uj, no zones, no folder, several packages; and the live system (whatever it
// has, the reader must not crash and must give a reason when unavailable).
// Usage: test_energy FIXTURES_DIR
#include "energy.h"
#include "measure_util.h"

#include <math.h>

static const char *fixtures;
static char *tmp;

// Copies fixture powercap-NAME into the temporary folder; returns its path (static buffer).
static const char *copy_fixture(const char *name)
{
    static char to[4096];
    char from[4096];
    snprintf(from, sizeof from, "%s/powercap-%s", fixtures, name);
    snprintf(to, sizeof to, "%s/%s", tmp, name);
    copy_tree(from, to);
    return to;
}

static void set_energy(const char *root, const char *zone, const char *uj)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/energy_uj", root, zone);
    put_file(path, uj);
}

static void test_normal(void)
{
    const char *root = copy_fixture("normal");
    tb_energy *e = tb_energy_open(root);
    CHECK(tb_energy_available(e), "reason: %s", tb_energy_reason(e));
    CHECK(strcmp(tb_energy_reason(e), "") == 0, "reason '%s' when available", tb_energy_reason(e));
    tb_energy_start(e);
    set_energy(root, "intel-rapl:0", "3500000\n");
    set_energy(root, "intel-rapl:0:0", "1500000\n");
    set_energy(root, "intel-rapl:0:1", "450000\n");
    double j[8];
    const char *names[8];
    int n = tb_energy_stop(e, j, names, 8);
    CHECK(n == 3, "%d zones", n);
    if (n == 3) {
        CHECK(strcmp(names[0], "package-0") == 0, "zone 0 is '%s'", names[0]);
        CHECK(strcmp(names[1], "core") == 0, "zone 1 is '%s'", names[1]);
        CHECK(strcmp(names[2], "dram") == 0, "zone 2 is '%s'", names[2]);
        CHECK(fabs(j[0] - 2.5) < 1e-9, "package %.9f J", j[0]);
        CHECK(fabs(j[1] - 1.0) < 1e-9, "core %.9f J", j[1]);
        CHECK(fabs(j[2] - 0.25) < 1e-9, "dram %.9f J", j[2]);
    }
    // max_zones smaller than the zone count: only that many are stored.
    tb_energy_start(e);
    n = tb_energy_stop(e, j, names, 1);
    CHECK(n == 1 && j[0] == 0.0, "n %d, %.3f J", n, j[0]);
    // stop without start: nothing.
    CHECK(tb_energy_stop(e, j, names, 8) == 0, "stop without start");
    tb_energy_close(e);
}

static void test_wrap(void)
{
    const char *root = copy_fixture("wrap");
    tb_energy *e = tb_energy_open(root);
    CHECK(tb_energy_available(e), "reason: %s", tb_energy_reason(e));
    tb_energy_start(e); // 262143000000 uJ, range 262143328850
    set_energy(root, "intel-rapl:0", "671150\n");
    double j = 0;
    const char *name = NULL;
    int n = tb_energy_stop(e, &j, &name, 1);
    CHECK(n == 1 && fabs(j - 1.0) < 1e-9, "n %d, %.9f J after a wrap (want 1.0)", n, j);
    tb_energy_close(e);

    // Without max_energy_range_uj a wrap cannot be undone: NAN, never a guess.
    char path[4096];
    snprintf(path, sizeof path, "%s/intel-rapl:0/max_energy_range_uj", root);
    unlink(path);
    set_energy(root, "intel-rapl:0", "262143000000\n");
    e = tb_energy_open(root);
    tb_energy_start(e);
    set_energy(root, "intel-rapl:0", "671150\n");
    n = tb_energy_stop(e, &j, &name, 1);
    CHECK(n == 1 && isnan(j), "n %d, %.9f J: want NAN without a range", n, j);
    tb_energy_close(e);
}

static void expect_unavailable(const char *root, const char *part1, const char *part2)
{
    tb_energy *e = tb_energy_open(root);
    CHECK(e != NULL, "open returned NULL");
    CHECK(!tb_energy_available(e), "%s: available", root);
    CHECK(contains(tb_energy_reason(e), part1) && contains(tb_energy_reason(e), part2),
          "reason '%s' lacks '%s'/'%s'", tb_energy_reason(e), part1, part2);
    tb_energy_start(e);
    double j;
    const char *name;
    CHECK(tb_energy_stop(e, &j, &name, 1) == 0, "stop on an unavailable reader");
    tb_energy_close(e);
}

static void test_unavailable(void)
{
    expect_unavailable(copy_fixture("unreadable"), "intel-rapl:0/energy_uj", strerror(EISDIR));
    expect_unavailable(copy_fixture("missing"), "intel-rapl:0/energy_uj", strerror(ENOENT));
    expect_unavailable(copy_fixture("empty"), "no RAPL zones", "intel-rapl");
    char none[4096];
    snprintf(none, sizeof none, "%s/no-such-powercap", tmp);
    expect_unavailable(none, "no ", "no-such-powercap (virtual machine?)");
    // A counter that is not a number.
    const char *root = copy_fixture("normal");
    set_energy(root, "intel-rapl:0:1", "lots\n");
    expect_unavailable(root, "intel-rapl:0:1/energy_uj", "not a whole number");
    // Permission denied can only be staged when not root (root reads a mode-000 file).
    if (geteuid() != 0) {
        root = copy_fixture("normal");
        char path[4096];
        snprintf(path, sizeof path, "%s/intel-rapl:0/energy_uj", root);
        chmod(path, 0);
        expect_unavailable(root, "Permission denied", "root only");
    }
}

// Two packages with a subzone each, created in an order the reader must sort.
static void test_two_packages(void)
{
    char root[4096], dir[4096 + 32], path[4096 + 64];
    snprintf(root, sizeof root, "%s/two", tmp);
    make_dir(root);
    const char *zones[][2] = {{"intel-rapl:1", "package-1"},
                              {"intel-rapl:0:0", "core"},
                              {"intel-rapl:1:0", "core"},
                              {"intel-rapl:0", "package-0"}};
    for (int i = 0; i < 4; i++) {
        snprintf(dir, sizeof dir, "%s/%s", root, zones[i][0]);
        make_dir(dir);
        snprintf(path, sizeof path, "%s/name", dir);
        put_file(path, zones[i][1]);
        snprintf(path, sizeof path, "%s/energy_uj", dir);
        put_file(path, "100\n");
    }
    tb_energy *e = tb_energy_open(root);
    CHECK(tb_energy_available(e), "reason: %s", tb_energy_reason(e));
    tb_energy_start(e);
    set_energy(root, "intel-rapl:1:0", "2000100\n");
    double j[4];
    const char *names[4];
    int n = tb_energy_stop(e, j, names, 4);
    const char *want[] = {"package-0", "package-0/core", "package-1", "package-1/core"};
    CHECK(n == 4, "%d zones", n);
    for (int i = 0; i < n && i < 4; i++)
        CHECK(strcmp(names[i], want[i]) == 0, "zone %d is '%s', want '%s'", i, names[i], want[i]);
    if (n == 4) CHECK(j[3] == 2.0 && j[0] == 0.0, "%.6f %.6f J", j[3], j[0]);
    tb_energy_close(e);
}

static void test_live(void)
{
    tb_energy *e = tb_energy_open(NULL);
    CHECK(e != NULL, "open(NULL) returned NULL");
    if (!tb_energy_available(e))
        CHECK(tb_energy_reason(e)[0] != '\0', "unavailable without a reason");
    tb_energy_start(e);
    double j[TB_ENERGY_MAX_ZONES];
    const char *names[TB_ENERGY_MAX_ZONES];
    int n = tb_energy_stop(e, j, names, TB_ENERGY_MAX_ZONES);
    printf("live energy: %s%s (%d zones)\n",
           tb_energy_available(e) ? "available" : "unavailable: ", tb_energy_reason(e), n);
    for (int i = 0; i < n; i++) CHECK(!(j[i] < 0), "%s: %.6f J", names[i], j[i]);
    tb_energy_close(e);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_energy FIXTURES_DIR\n");
        return 2;
    }
    fixtures = argv[1];
    tmp = temp_dir("energy");
    test_normal();
    test_wrap();
    test_unavailable();
    test_two_packages();
    test_live();
    remove_tree(tmp);
    free(tmp);
    if (failures)
        fprintf(stderr, "%d energy checks failed\n", failures);
    else
        printf("energy tests passed\n");
    return failures ? 1 : 0;
}
