/* Fused float32 kernel of the analytic QT activation h = T(eps), eps = a z.
 *
 * Compiled once per machine by qthybrid/nn/kernels/cpu.py (plain C, no Python or
 * torch headers) and called through ctypes on contiguous float32 buffers.
 *
 * With s = g^2 (1 - eps) and f(s) = sinh(sqrt s)/sqrt s = sum_k s^k / (2k+1)!
 * (an entire function: sin(v)/v with v = sqrt(-s) above the barrier), the
 * rectangular-barrier transmission and its slope are
 *
 *     T = 4 eps / D,   dT/deps = 4 g^2 f (f + 2 eps g^2 f') / D^2,   D = 4 eps + g^2 f^2,
 *
 * for eps > 0; T = 0 for eps <= 0, and at eps = 0 the slope is the right limit
 * 4 / sinh^2 g.  Every element with |s| <= 1 (for the paper's g = 0.5: all
 * 0 < eps <= 5) is evaluated in float32 from the truncated series: for |s| <= 1
 * the truncation error is below 2.2e-10 (f) and 6.5e-9 (f') relative, f and f'
 * stay >= 0.84 and >= 0.15, and no step cancels, so T and dT/deps carry only a
 * few float32 roundings.  1 - eps is formed with one fused multiply-add (or in
 * double), so s is accurate even where eps is close to 1.  The rare elements
 * outside the series region (thick barriers, far above the barrier) are
 * recomputed in double with libm's exp/sin/cos, exactly as the float64
 * reference (qthybrid/physics/transmission.py) does:
 *
 *     below (s > 1), v = sqrt s, w = exp(-2v):
 *         T = N / (N + M), N = 16 eps v^2 w, M = g^2 (1 - w)^2,
 *         dT/deps = T (1 - T) [1/eps + g^2 (v coth v - 1) / v^2];
 *     above (s < -1), v = sqrt(-s), x = g^2 sin^2 v / (4 eps v^2):
 *         T = 1 / (1 + x),
 *         dT/deps = T^2 x (1/eps + g^2/v^2) - T^2 g^4 sin v cos v / (4 eps v^3).
 *
 * Above eps_max, T is its value at eps_max and dT/deps is 0, as in the float64
 * path (so +inf gives the limits T = 1 and 0; eps_max = inf keeps the plain
 * formula). NaN propagates (as torch.sigmoid) and -inf gives 0.
 */
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define QT_KERNEL_ABI 2
#define BLOCK 512                 /* elements per block: the fix-up scan stays in L1 */
#define MIN_PER_THREAD 65536      /* below this a second thread costs more than it saves */
#define MAX_THREADS 64
#define SERIES_LIMIT 1.0          /* |s| <= SERIES_LIMIT: float32 series */

typedef struct {
    double a, g2, chain, eps_max; /* eps = a z; dT/dz = chain dT/deps */
    float a_f, a_lo_f, g2_f, c4_f, slope_f, om_max_f;
} params;

enum mode { TRANSMISSION, TRANSMISSION_AND_SLOPE, INPUT_GRADIENT };

/* f(s) and f'(s), truncated after s^5 (|s| <= 1). */
static inline float series_f(float s) {
    return 1.0f + s * (1.0f / 6 + s * (1.0f / 120 + s * (1.0f / 5040 + s * (1.0f / 362880 + s * (1.0f / 39916800)))));
}

static inline float series_df(float s) {
    return 1.0f / 6 + s * (2.0f / 120 + s * (3.0f / 5040 + s * (4.0f / 362880 + s * (5.0f / 39916800))));
}

/* 1 - a z to float32 accuracy even when a z is close to 1 (a = a_hi + a_lo). */
static inline float one_minus_eps(float z, float a_hi, float a_lo, double a) {
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA) || defined(__aarch64__)
    (void)a;
    return fmaf(-z, a_hi, 1.0f) - z * a_lo;
#else
    (void)a_hi, (void)a_lo;
    return (float)(1.0 - (double)z * a);
#endif
}

/* T and dT/deps in double for eps > 0 outside the series region. */
static void general_point(double eps, double g2, double *T, double *dT_deps) {
    double s = g2 * (1.0 - eps);
    if (s > 0) {
        double v = sqrt(s), w = exp(-2.0 * v), om = 1.0 - w;
        double N = 16.0 * eps * v * v * w, M = g2 * om * om, inv = 1.0 / (N + M);
        double t = N * inv, q = (v * (1.0 + w) / om - 1.0) / (v * v);
        *T = t;
        *dT_deps = 16.0 * v * v * w * M * inv * inv + t * M * inv * g2 * q;
    } else {
        double v = sqrt(-s), sn = sin(v), cs = cos(v);
        double x = g2 * sn * sn / (4.0 * eps * v * v), t = 1.0 / (1.0 + x);
        *T = t;
        *dT_deps = t * t * x * (1.0 / eps + g2 / (v * v)) - t * t * g2 * g2 * sn * cs / (4.0 * eps * v * v * v);
    }
}

/* z > 0 outside the series region; z = +inf (where om may be NaN) included. */
static inline int outside_series(float z, float om, float om_max) {
    return (z > 0) & !(fabsf(om) <= om_max);
}

/* One block: the vectorised float32 series for every element, then the few
 * elements outside the series region again in double. */
static inline __attribute__((always_inline)) void run_block(
        const float *restrict z, const float *restrict grad, float *restrict T, float *restrict out,
        int64_t m, const params *p, enum mode mode) {
    const double a = p->a;
    const float a_hi = p->a_f, a_lo = p->a_lo_f, g2 = p->g2_f, c4 = p->c4_f, slope = p->slope_f;
    const float om_max = p->om_max_f;
    int outside = 0;
    for (int64_t i = 0; i < m; i++) {
        float zi = z[i], e = zi * a_hi, om = one_minus_eps(zi, a_hi, a_lo, a), s = g2 * om;
        float f = series_f(s);
        float r = 1.0f / (g2 * f * f + 4.0f * e);
        outside |= outside_series(zi, om, om_max);
        if (mode != INPUT_GRADIENT)
            T[i] = zi <= 0 ? 0.0f : 4.0f * e * r;           /* NaN fails the test and propagates */
        if (mode != TRANSMISSION) {
            float d = c4 * f * (2.0f * e * g2 * series_df(s) + f) * r * r;
            d = zi < 0 ? 0.0f : (zi == 0 ? slope : d);
            out[i] = mode == INPUT_GRADIENT ? grad[i] * d : d;
        }
    }
    if (!outside)
        return;
    for (int64_t i = 0; i < m; i++) {
        if (!outside_series(z[i], one_minus_eps(z[i], a_hi, a_lo, a), om_max))
            continue;
        double t, d;
        double eps = (double)z[i] * a;
        general_point(eps < p->eps_max ? eps : p->eps_max, p->g2, &t, &d);
        d = eps > p->eps_max ? 0.0 : d * p->chain;
        if (mode != INPUT_GRADIENT)
            T[i] = (float)t;
        if (mode == TRANSMISSION_AND_SLOPE)
            out[i] = (float)d;
        if (mode == INPUT_GRADIENT)
            out[i] = grad[i] * (float)d;
    }
}

typedef struct {
    const float *z, *grad;
    float *T, *out;
    int64_t n;
    const params *p;
    enum mode mode;
} job;

static void *run_job(void *arg) {
    const job *j = arg;
    for (int64_t start = 0; start < j->n; start += BLOCK) {
        int64_t m = j->n - start < BLOCK ? j->n - start : BLOCK;
        const float *z = j->z + start, *grad = j->grad ? j->grad + start : NULL;
        float *T = j->T ? j->T + start : NULL, *out = j->out ? j->out + start : NULL;
        /* constant modes let the compiler drop the unused stores */
        if (j->mode == TRANSMISSION)
            run_block(z, NULL, T, NULL, m, j->p, TRANSMISSION);
        else if (j->mode == TRANSMISSION_AND_SLOPE)
            run_block(z, NULL, T, out, m, j->p, TRANSMISSION_AND_SLOPE);
        else
            run_block(z, grad, NULL, out, m, j->p, INPUT_GRADIENT);
    }
    return NULL;
}

static params make_params(double a, double g, double chain, double eps_max) {
    params p;
    double sh = sinh(g);
    p.a = a;
    p.g2 = g * g;
    p.chain = chain;
    p.eps_max = eps_max;
    p.a_f = (float)a;
    p.a_lo_f = (float)(a - (double)p.a_f);
    p.g2_f = (float)p.g2;
    p.c4_f = (float)(4.0 * p.g2 * chain);
    p.slope_f = (float)(4.0 / (sh * sh) * chain);   /* right limit at eps = 0; 0 once sinh overflows */
    p.om_max_f = (float)(SERIES_LIMIT / p.g2);
    return p;
}

/* Split [0, n) into contiguous, block-aligned chunks, one per thread. */
static void launch(const float *z, const float *grad, float *T, float *out, int64_t n,
                   double a, double g, double chain, double eps_max, int threads, enum mode mode) {
    if (n <= 0)
        return;
    params p = make_params(a, g, chain, eps_max);
    int64_t most = n / MIN_PER_THREAD;
    if (threads > most) threads = (int)(most > 1 ? most : 1);
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    int64_t chunk = ((n + threads - 1) / threads + BLOCK - 1) / BLOCK * BLOCK;
    job jobs[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    int started[MAX_THREADS] = {0}, used = 0;
    for (int k = 0; k < threads && (int64_t)k * chunk < n; k++, used++) {
        int64_t s0 = (int64_t)k * chunk, len = n - s0 < chunk ? n - s0 : chunk;
        jobs[k] = (job){z + s0, grad ? grad + s0 : NULL, T ? T + s0 : NULL, out ? out + s0 : NULL, len, &p, mode};
    }
    for (int k = 1; k < used; k++)
        started[k] = pthread_create(&ids[k], NULL, run_job, &jobs[k]) == 0;
    run_job(&jobs[0]);
    for (int k = 1; k < used; k++) {
        if (started[k])
            pthread_join(ids[k], NULL);
        else
            run_job(&jobs[k]);   /* no thread could be started: do its share here */
    }
}

int qt_kernel_abi(void) { return QT_KERNEL_ABI; }

/* T(a z). */
void qt_transmission(const float *z, float *T, int64_t n, double a, double g, double eps_max, int threads) {
    launch(z, NULL, T, NULL, n, a, g, 1.0, eps_max, threads, TRANSMISSION);
}

/* T(a z) and chain * dT/deps (chain = a for the true dT/dz). */
void qt_transmission_and_slope(const float *z, float *T, float *slope, int64_t n, double a, double g,
                               double chain, double eps_max, int threads) {
    launch(z, NULL, T, slope, n, a, g, chain, eps_max, threads, TRANSMISSION_AND_SLOPE);
}

/* grad * chain * dT/deps at eps = a z: the backward pass, recomputing the slope. */
void qt_input_gradient(const float *z, const float *grad, float *out, int64_t n, double a, double g,
                       double chain, double eps_max, int threads) {
    launch(z, grad, NULL, out, n, a, g, chain, eps_max, threads, INPUT_GRADIENT);
}
