// One table-driven option parser for every command. A command describes its options as a
// table of tb_option rows, each naming the field of the command's options struct it fills and
// how to read it; getopt_long scans argv. One spelling for one thing across commands:
// --kernel, --model, --shape N,K, --m LIST, --threads, --seed, --json (the document on
// standard output instead of the table), --out FILE (the document also to FILE, atomically).
#ifndef TB_OPTIONS_H
#define TB_OPTIONS_H

#include <stddef.h>

typedef enum {
    TB_OPT_FLAG,   // int field set to 1
    TB_OPT_STRING, // const char * field
    TB_OPT_INT,    // int field in [lo, hi]
    TB_OPT_U64,    // uint64_t field, any non-negative whole number
    TB_OPT_DOUBLE, // double field in [lo, hi]
    TB_OPT_INTS,   // int array field, comma-separated, each in [lo, hi], count in count_field
    TB_OPT_CHOICE, // int field: index of the value in the comma list `choices`
} tb_opt_type;

typedef struct {
    const char *name; // without the leading "--"
    tb_opt_type type;
    size_t field;             // offsetof the value in the options struct
    size_t count_field;       // TB_OPT_INTS: offsetof its int count
    double lo, hi;            // TB_OPT_INT, TB_OPT_DOUBLE, TB_OPT_INTS: range of a value
    int min_count, max_count; // TB_OPT_INTS: how many values
    const char *choices;      // TB_OPT_CHOICE: "f16,f32"
} tb_option;

#define TB_OPT_FLAG_ROW(name, T, f)                                                                \
    {                                                                                              \
        name, TB_OPT_FLAG, offsetof(T, f), 0, 0, 0, 0, 0, NULL                                     \
    }
#define TB_OPT_STRING_ROW(name, T, f)                                                              \
    {                                                                                              \
        name, TB_OPT_STRING, offsetof(T, f), 0, 0, 0, 0, 0, NULL                                   \
    }
#define TB_OPT_INT_ROW(name, T, f, lo, hi)                                                         \
    {                                                                                              \
        name, TB_OPT_INT, offsetof(T, f), 0, lo, hi, 0, 0, NULL                                    \
    }
#define TB_OPT_U64_ROW(name, T, f)                                                                 \
    {                                                                                              \
        name, TB_OPT_U64, offsetof(T, f), 0, 0, 0, 0, 0, NULL                                      \
    }
#define TB_OPT_DOUBLE_ROW(name, T, f, lo, hi)                                                      \
    {                                                                                              \
        name, TB_OPT_DOUBLE, offsetof(T, f), 0, lo, hi, 0, 0, NULL                                 \
    }
#define TB_OPT_INTS_ROW(name, T, f, count, lo, hi, minc, maxc)                                     \
    {                                                                                              \
        name, TB_OPT_INTS, offsetof(T, f), offsetof(T, count), lo, hi, minc, maxc, NULL            \
    }
#define TB_OPT_CHOICE_ROW(name, T, f, choices)                                                     \
    {                                                                                              \
        name, TB_OPT_CHOICE, offsetof(T, f), 0, 0, 0, 0, 0, choices                                \
    }

#define TB_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

// Parses argv[1..argc) (argv[0] is the command's name) into out. Arguments after "--" are left
// to the caller: *rest is the index of the first one (argc if none), or pass rest = NULL to
// refuse them. Returns 0; -1 when --help or -h was given (help printed on standard output: the
// command exits 0); or 2 after printing "tritbench CMD: problem (see 'tritbench CMD --help')"
// to stderr. So a command starts: if ((rc = tb_parse_options(...))) return rc < 0 ? 0 : rc;
int tb_parse_options(const char *cmd, const char *help, const tb_option *opts, int nopts, int argc,
                     char **argv, void *out, int *rest);

// Commands with operands (`compare BASE NEW`): moves the arguments of argv[1..*argc) that are
// neither options nor their values into operands[0..max), in order, and closes the gap, so
// that tb_parse_options sees options only. Stops at "--". Returns how many there were (more
// than max are counted, not stored).
int tb_take_operands(const tb_option *opts, int nopts, int *argc, char **argv,
                     const char **operands, int max);

#endif
