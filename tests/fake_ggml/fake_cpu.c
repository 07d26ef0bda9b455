// The CPU half of the fake ggml (fake_base.c): it scores as runnable, as ggml's variants do.
#include <stddef.h>

int ggml_backend_score(void)
{
    return 1;
}
void ggml_cpu_init(void) {}
const void *ggml_get_type_traits_cpu(int type)
{
    (void)type;
    return NULL;
}
