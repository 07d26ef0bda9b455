// Reference float matmul: Y = X W^T with double accumulation. Float products of float inputs
// are exact in double (24 + 24 significant bits < 53), so the only rounding is in the sum
// (relative 2^-53 per addition) and in the final conversion to float.
#include "tb_reference.h"

void tb_ref_matmul(const float *x, const float *w, int m, int n, int k, float *y)
{
    for (int i = 0; i < m; i++) {
        const float *xi = x + (size_t)i * k;
        for (int j = 0; j < n; j++) {
            const float *wj = w + (size_t)j * k;
            double acc = 0;
            for (int t = 0; t < k; t++) acc += (double)xi[t] * (double)wj[t];
            y[(size_t)i * n + j] = (float)acc;
        }
    }
}
