/* Fused float32 kernel of the analytic QT activation h = T(eps), eps = a z.
 *
 * Plain C (no Python or torch headers), built by pip install (an optional
 * setuptools extension, with QT_KERNEL_CLONES: one clone of the hot loop per
 * x86-64 level, AVX-512 / AVX2 / baseline, picked when the library is loaded,
 * so the installed library runs on any x86-64 CPU) or on first use by
 * qthybrid/nn/kernels/cpu.py for the CPU at hand (-march=native), which calls
 * it through ctypes on contiguous float32 buffers. Built with -fopenmp, it runs
 * on torch's own OpenMP thread team (libgomp.so.1, already loaded by torch);
 * otherwise on threads of its own.
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
 * double), so s is accurate even where eps is close to 1.  The elements outside
 * the series region (thick barriers, far above the barrier) are evaluated again
 * in double with the float64 reference's closed forms
 * (qthybrid/physics/transmission.py): in a vectorised pass with our own exp and
 * sin/cos, or one by one with libm where a block has only a few of them or the
 * sin/cos argument is beyond 1e6:
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
#include <string.h>

#define QT_KERNEL_ABI 2
#define BLOCK 512                 /* elements per block: the fix-up scan stays in L1 */
#define MIN_PER_THREAD 65536      /* below this a second thread costs more than it saves */
#define MAX_THREADS 64
#define SERIES_LIMIT 1.0          /* |s| <= SERIES_LIMIT: float32 series */
#define SCALAR_MAX 8              /* up to this many elements of a block outside it: one by one */

typedef struct {
    double a, g2, chain, eps_max; /* eps = a z; dT/dz = chain dT/deps */
    float a_f, a_lo_f, g2_f, c4_f, slope_f, om_max_f;
    int may_be_far;               /* can some eps <= eps_max need sin/cos beyond SIN_ARG_MAX? */
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

/* e^x for -708 <= x <= 0, branch-free (vectorises): x = k ln2 + r, |r| <= ln2/2,
 * e^r from its Taylor polynomial to degree 11 (truncation < 1e-14), 2^k from the bits. */
static inline double exp_nonpositive(double x) {
    const double shift = 0x1.8p52, ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    double kd = x * 1.44269504088896338700e+00 + shift;
    uint64_t k_bits, scale_bits;
    memcpy(&k_bits, &kd, sizeof kd);
    kd -= shift;
    double r = (x - kd * ln2_hi) - kd * ln2_lo;
    double poly = 1.0 + r * (1.0 + r * (1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (1.0 / 720
                  + r * (1.0 / 5040 + r * (1.0 / 40320 + r * (1.0 / 362880 + r * (1.0 / 3628800
                  + r * (1.0 / 39916800)))))))))));
    scale_bits = (k_bits + 1023) << 52;   /* the low bits of k_bits hold k */
    double scale;
    memcpy(&scale, &scale_bits, sizeof scale);
    return poly * scale;
}

/* sin v and cos v for 0 <= v <= SIN_ARG_MAX, branch-free: v = q pi/2 + r with pi/2 in three
 * 33-bit parts (exact products for q < 2^20), Taylor polynomials on |r| <= pi/4 (< 1e-16). */
#define SIN_ARG_MAX 1e6
static inline void sincos_reduced(double v, double *sin_v, double *cos_v) {
    const double shift = 0x1.8p52, pio2_1 = 1.57079632673412561417e+00, pio2_2 = 6.07710050630396597660e-11,
                 pio2_3 = 2.02226624871116645580e-21;
    double qd = v * 6.36619772367581382433e-01 + shift;
    uint64_t q;
    memcpy(&q, &qd, sizeof qd);
    qd -= shift;
    double r = ((v - qd * pio2_1) - qd * pio2_2) - qd * pio2_3, r2 = r * r;
    double sn = r + r * r2 * (-1.0 / 6 + r2 * (1.0 / 120 + r2 * (-1.0 / 5040 + r2 * (1.0 / 362880
                + r2 * (-1.0 / 39916800 + r2 * (1.0 / 6227020800.0 + r2 * (-1.0 / 1307674368000.0)))))));
    double cs = 1.0 + r2 * (-1.0 / 2 + r2 * (1.0 / 24 + r2 * (-1.0 / 720 + r2 * (1.0 / 40320
                + r2 * (-1.0 / 3628800 + r2 * (1.0 / 479001600 + r2 * (-1.0 / 87178291200.0
                + r2 * (1.0 / 20922789888000.0))))))));
    int odd = (int)(q & 1), negate_sin = (int)(q & 2), negate_cos = (int)((q + 1) & 2);
    double s_part = odd ? cs : sn, c_part = odd ? sn : cs;
    *sin_v = negate_sin ? -s_part : s_part;
    *cos_v = negate_cos ? -c_part : c_part;
}

/* T and dT/deps for eps > 0 outside the series region, both branches formed and one
 * selected, given v = sqrt|s|, w = exp(-2v) and sin v, cos v (see the header; the
 * branches are rearranged to four divisions). */
static inline void general_formula(double eps, double g2, double s, double v, double w, double sn, double cs,
                                   double *T, double *dT_deps) {
    double om = 1.0 - w, v2 = v * v;
    double N = 16.0 * eps * v2 * w, M = g2 * om * om, inv = 1.0 / (N + M);
    double t_below = N * inv, q = (v * (1.0 + w) - om) / (om * v2);          /* (v coth v - 1) / v^2 */
    double d_below = inv * M * (16.0 * v2 * w * inv + t_below * g2 * q);
    double r = 1.0 / (4.0 * eps * v2), x = g2 * sn * sn * r, t_above = 1.0 / (1.0 + x);
    /* 1/eps + g^2/v^2 = 4 r (v^2 + g^2 eps) and g^4 sin cos / (4 eps v^3) = 4 g^4 sin cos v eps r^2 */
    double d_above = 4.0 * t_above * t_above * r * (x * (v2 + g2 * eps) - g2 * g2 * sn * cs * v * eps * r);
    *T = s > 0 ? t_below : t_above;
    *dT_deps = s > 0 ? d_below : d_above;
}

/* s = g^2 (1 - eps) and v = sqrt|s|, at least 1 (|s| > 1 outside the series region). */
static inline void branch_arguments(double eps, double g2, double *s, double *v) {
    *s = g2 * (1.0 - eps);
    double abs_s = *s < 0 ? -*s : *s;
    *v = sqrt(abs_s > 1.0 ? abs_s : 1.0);
}

/* One element with libm's exp, sin and cos (any argument). */
static void general_point(double eps, double g2, double *T, double *dT_deps) {
    double s, v;
    branch_arguments(eps, g2, &s, &v);
    general_formula(eps, g2, s, v, exp(-2.0 * v), sin(v), cos(v), T, dT_deps);
}

/* z > 0 outside the series region; z = +inf (where om may be NaN) included. */
static inline int outside_series(float z, float om, float om_max) {
    return (z > 0) & !(fabsf(om) <= om_max);
}

/* The outside elements of a block in double, one at a time with libm. */
static inline __attribute__((always_inline)) void general_scalar(
        const float *restrict z, const float *restrict grad, float *restrict T, float *restrict out,
        int64_t m, const params *p, enum mode mode, int far_only) {
    for (int64_t i = 0; i < m; i++) {
        if (!outside_series(z[i], one_minus_eps(z[i], p->a_f, p->a_lo_f, p->a), p->om_max_f))
            continue;
        double eps = (double)z[i] * p->a, ec = eps < p->eps_max ? eps : p->eps_max, s, v, t, d;
        branch_arguments(ec, p->g2, &s, &v);
        if (far_only && !(s < 0 && v > SIN_ARG_MAX))
            continue;
        general_point(ec, p->g2, &t, &d);
        d = eps > p->eps_max ? 0.0 : d * p->chain;
        if (mode != INPUT_GRADIENT)
            T[i] = (float)t;
        if (mode == TRANSMISSION_AND_SLOPE)
            out[i] = (float)d;
        if (mode == INPUT_GRADIENT)
            out[i] = grad[i] * (float)d;
    }
}

/* The outside elements of a block in double, vectorised: every element is evaluated and
 * only the outside ones stored (those needing sin/cos beyond SIN_ARG_MAX are redone after). */
static inline __attribute__((always_inline)) void general_vector(
        const float *restrict z, const float *restrict grad, float *restrict T, float *restrict out,
        int64_t m, const params *p, enum mode mode) {
    const double a = p->a, g2 = p->g2, chain = p->chain, eps_max = p->eps_max;
    const float a_hi = p->a_f, a_lo = p->a_lo_f, om_max = p->om_max_f;
    for (int64_t i = 0; i < m; i++) {
        float zi = z[i];
        int take = outside_series(zi, one_minus_eps(zi, a_hi, a_lo, a), om_max);
        double eps = (double)zi * a, ec = eps < eps_max ? eps : eps_max, s, v, sn, cs, t, d;
        branch_arguments(ec, g2, &s, &v);
        sincos_reduced(v < SIN_ARG_MAX ? v : 0.0, &sn, &cs);
        double x = -2.0 * v;
        general_formula(ec, g2, s, v, exp_nonpositive(x > -708.0 ? x : -708.0), sn, cs, &t, &d);
        d = eps > eps_max ? 0.0 : d * chain;
        if (mode != INPUT_GRADIENT)
            T[i] = take ? (float)t : T[i];
        if (mode == TRANSMISSION_AND_SLOPE)
            out[i] = take ? (float)d : out[i];
        if (mode == INPUT_GRADIENT)
            out[i] = take ? grad[i] * (float)d : out[i];
    }
}

/* One block: the vectorised float32 series for every element, then the elements outside
 * the series region again in double: one by one when few, else in a vectorised pass. */
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
        outside += outside_series(zi, om, om_max);
        if (mode != INPUT_GRADIENT)
            T[i] = zi <= 0 ? 0.0f : 4.0f * e * r;           /* NaN fails the test and propagates */
        if (mode != TRANSMISSION) {
            float d = c4 * f * (2.0f * e * g2 * series_df(s) + f) * r * r;
            d = zi < 0 ? 0.0f : (zi == 0 ? slope : d);
            out[i] = mode == INPUT_GRADIENT ? grad[i] * d : d;
        }
    }
    if (outside > SCALAR_MAX) {
        general_vector(z, grad, T, out, m, p, mode);
        if (p->may_be_far)
            general_scalar(z, grad, T, out, m, p, mode, 1);
    } else if (outside) {
        general_scalar(z, grad, T, out, m, p, mode, 0);
    }
}

typedef struct {
    const float *z, *grad;
    float *T, *out;
    int64_t n;
    const params *p;
    enum mode mode;
} job;

#if defined(QT_KERNEL_CLONES) && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
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
    p.may_be_far = !(p.g2 * (eps_max - 1.0) <= SIN_ARG_MAX * SIN_ARG_MAX);
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
    if (threads < 1) threads = 1;
    int64_t chunk = ((n + threads - 1) / threads + BLOCK - 1) / BLOCK * BLOCK;
    job jobs[MAX_THREADS];
    int used = 0;
    for (int k = 0; k < threads && (int64_t)k * chunk < n; k++, used++) {
        int64_t s0 = (int64_t)k * chunk, len = n - s0 < chunk ? n - s0 : chunk;
        jobs[k] = (job){z + s0, grad ? grad + s0 : NULL, T ? T + s0 : NULL, out ? out + s0 : NULL, len, &p, mode};
    }
    if (used == 1) {              /* no team needed (nor touched: e.g. in a forked DataLoader worker) */
        run_job(&jobs[0]);
        return;
    }
#ifdef _OPENMP
    /* On the OpenMP runtime torch loaded (the same soname, so the same, already running thread
     * team): threads of a second pool would share the cores with torch's threads, which keep
     * spinning for a while after each torch operation, and run at about half speed. */
#pragma omp parallel for num_threads(used) schedule(static, 1)
    for (int k = 0; k < used; k++)
        run_job(&jobs[k]);
#else
    pthread_t ids[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int k = 1; k < used; k++)
        started[k] = pthread_create(&ids[k], NULL, run_job, &jobs[k]) == 0;
    run_job(&jobs[0]);
    for (int k = 1; k < used; k++) {
        if (started[k])
            pthread_join(ids[k], NULL);
        else
            run_job(&jobs[k]);   /* no thread could be started: do its share here */
    }
#endif
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
