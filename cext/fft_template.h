/* Real FFT kernels, written once and instantiated for double and float by fft_core.h
 * (which defines REAL and SFX before including this file).
 *
 * Layout: a real frame of n samples is packed into a half-size complex sequence
 * z[k] = x[2k] + i x[2k+1] held in split form (separate re/im arrays), transformed by a
 * Stockham autosort radix-4 FFT (one final radix-2 pass when log2(n/2) is odd), then
 * "untangled" into the n/2+1 bins of the real spectrum.  Split form keeps every inner loop a
 * plain elementwise loop over contiguous, non-aliasing arrays, which the compiler turns into
 * SIMD code with the baseline instruction set (SSE2 on x86-64, NEON on AArch64).
 * Stockham ping-pongs between two buffers, so no bit-reversal pass is needed.
 */

#define LG_CAT_(a, b) a##b
#define LG_CAT(a, b) LG_CAT_(a, b)
#define FN(name) LG_CAT(name, SFX)
#define PLAN FN(lg_plan)

/* Power-of-two sized arrays laid end to end start at the same offset modulo 4 KiB, so the 8 to
 * 16 streams of a butterfly pass compete for one set of the 8-way L1 cache and evict each other.
 * A gap of 9 cache lines after each array (and between the six twiddle arrays of a pass)
 * spreads the streams over different sets. */
#define LG_GAP_BYTES 576
#define LG_TWSTRIDE(m) ((m) + LG_GAP_BYTES / (Py_ssize_t)sizeof(REAL))

typedef struct {
    Py_ssize_t n;        /* real transform size */
    Py_ssize_t h;        /* complex size n/2 */
    REAL *tw;            /* radix-4 twiddles, 6 arrays of m per pass with m = nsub/4 */
    REAL *post_c;        /* 0.5*cos(2 pi k/n), k = 0..h-1 */
    REAL *post_s;        /* 0.5*sin(2 pi k/n) */
    REAL *ar, *ai, *br, *bi;  /* ping-pong buffers, h each */
    REAL *power;         /* h+1 bins of |X|^2 */
    void *block;         /* the one allocation all arrays above live in */
} PLAN;

/* One row of s radix-4 butterflies sharing the twiddles (c1,s1)..(c3,s3). Every stream is a
 * restrict parameter: gcc only trusts restrict on parameters, and with that it vectorises the
 * loop without run-time alias checks (it gives up above ten such checks). */
static inline void FN(lg_bfly4_row)(
    Py_ssize_t s, const REAL *restrict ar, const REAL *restrict ai, const REAL *restrict br,
    const REAL *restrict bi, const REAL *restrict cr, const REAL *restrict ci,
    const REAL *restrict dr, const REAL *restrict di, REAL *restrict y0r, REAL *restrict y0i,
    REAL *restrict y1r, REAL *restrict y1i, REAL *restrict y2r, REAL *restrict y2i,
    REAL *restrict y3r, REAL *restrict y3i, REAL c1, REAL s1, REAL c2, REAL s2, REAL c3, REAL s3)
{
    LG_IVDEP
    for (Py_ssize_t q = 0; q < s; q++) {
        const REAL apcr = ar[q] + cr[q], apci = ai[q] + ci[q];
        const REAL amcr = ar[q] - cr[q], amci = ai[q] - ci[q];
        const REAL bpdr = br[q] + dr[q], bpdi = bi[q] + di[q];
        const REAL bmdr = br[q] - dr[q], bmdi = bi[q] - di[q];
        y0r[q] = apcr + bpdr;
        y0i[q] = apci + bpdi;
        const REAL t2r = apcr - bpdr, t2i = apci - bpdi;
        /* forward DFT of 4 points: X1 = (a-c) - j(b-d), X3 = (a-c) + j(b-d) */
        const REAL t1r = amcr + bmdi, t1i = amci - bmdr;
        const REAL t3r = amcr - bmdi, t3i = amci + bmdr;
        y1r[q] = t1r * c1 - t1i * s1;
        y1i[q] = t1r * s1 + t1i * c1;
        y2r[q] = t2r * c2 - t2i * s2;
        y2i[q] = t2r * s2 + t2i * c2;
        y3r[q] = t3r * c3 - t3i * s3;
        y3i[q] = t3r * s3 + t3i * c3;
    }
}

/* One Stockham decimation-in-frequency radix-4 pass, sub-transform size nsub = 4m, stride s:
 * y[q + s(4p+r)] = W^(rp) * DFT4(x[q + s(p + jm)], j = 0..3)[r]. */
static void FN(lg_pass4)(Py_ssize_t m, Py_ssize_t s,
                         const REAL *restrict xr, const REAL *restrict xi,
                         REAL *restrict yr, REAL *restrict yi, const REAL *restrict tw)
{
    const Py_ssize_t t = LG_TWSTRIDE(m);
    const REAL *w1r = tw, *w1i = tw + t, *w2r = tw + 2 * t, *w2i = tw + 3 * t;
    const REAL *w3r = tw + 4 * t, *w3i = tw + 5 * t;
    for (Py_ssize_t p = 0; p < m; p++) {
        REAL *y0r = yr + s * 4 * p, *y0i = yi + s * 4 * p;
        FN(lg_bfly4_row)(s, xr + s * p, xi + s * p, xr + s * (p + m), xi + s * (p + m),
                         xr + s * (p + 2 * m), xi + s * (p + 2 * m), xr + s * (p + 3 * m),
                         xi + s * (p + 3 * m), y0r, y0i, y0r + s, y0i + s, y0r + 2 * s,
                         y0i + 2 * s, y0r + 3 * s, y0i + 3 * s, w1r[p], w1i[p], w2r[p], w2i[p],
                         w3r[p], w3i[p]);
    }
}

/* The first pass (stride 1), fused with packing the real frame: z[k] = (x[2k] - offset) w[2k]
 * + i (x[2k+1] - offset) w[2k+1] is formed as it is loaded, so no separate packing pass runs
 * over memory. The loop runs over p so that it stays long and vectorisable; `windowed` is a
 * constant at each call site and the untaken branch disappears when this is inlined. */
static LG_INLINE void FN(lg_pass4_first)(Py_ssize_t m, const REAL *restrict x,
                                         const REAL *restrict w, REAL offset, int windowed,
                                         REAL *restrict yr, REAL *restrict yi,
                                         const REAL *restrict tw)
{
    const Py_ssize_t t = LG_TWSTRIDE(m);
    const REAL *w1r = tw, *w1i = tw + t, *w2r = tw + 2 * t, *w2i = tw + 3 * t;
    const REAL *w3r = tw + 4 * t, *w3i = tw + 5 * t;
    const REAL *restrict xa = x, *restrict xb = x + 2 * m, *restrict xc = x + 4 * m;
    const REAL *restrict xd = x + 6 * m;
    const REAL *restrict wa = w, *restrict wb = w + 2 * m, *restrict wc = w + 4 * m;
    const REAL *restrict wd = w + 6 * m;
    LG_IVDEP
    for (Py_ssize_t p = 0; p < m; p++) {
        REAL ar = xa[2 * p] - offset, ai = xa[2 * p + 1] - offset;
        REAL br = xb[2 * p] - offset, bi = xb[2 * p + 1] - offset;
        REAL cr = xc[2 * p] - offset, ci = xc[2 * p + 1] - offset;
        REAL dr = xd[2 * p] - offset, di = xd[2 * p + 1] - offset;
        if (windowed) {
            ar *= wa[2 * p];
            ai *= wa[2 * p + 1];
            br *= wb[2 * p];
            bi *= wb[2 * p + 1];
            cr *= wc[2 * p];
            ci *= wc[2 * p + 1];
            dr *= wd[2 * p];
            di *= wd[2 * p + 1];
        }
        const REAL apcr = ar + cr, apci = ai + ci, amcr = ar - cr, amci = ai - ci;
        const REAL bpdr = br + dr, bpdi = bi + di, bmdr = br - dr, bmdi = bi - di;
        const REAL t2r = apcr - bpdr, t2i = apci - bpdi;
        const REAL t1r = amcr + bmdi, t1i = amci - bmdr;
        const REAL t3r = amcr - bmdi, t3i = amci + bmdr;
        yr[4 * p] = apcr + bpdr;
        yi[4 * p] = apci + bpdi;
        yr[4 * p + 1] = t1r * w1r[p] - t1i * w1i[p];
        yi[4 * p + 1] = t1r * w1i[p] + t1i * w1r[p];
        yr[4 * p + 2] = t2r * w2r[p] - t2i * w2i[p];
        yi[4 * p + 2] = t2r * w2i[p] + t2i * w2r[p];
        yr[4 * p + 3] = t3r * w3r[p] - t3i * w3i[p];
        yi[4 * p + 3] = t3r * w3i[p] + t3i * w3r[p];
    }
}

/* The last radix-4 pass (nsub = 4): every twiddle is 1, so no multiplications. */
static void FN(lg_pass4_last)(Py_ssize_t s,
                              const REAL *restrict xr, const REAL *restrict xi,
                              REAL *restrict yr, REAL *restrict yi)
{
    LG_IVDEP
    for (Py_ssize_t q = 0; q < s; q++) {
        const REAL apcr = xr[q] + xr[q + 2 * s], apci = xi[q] + xi[q + 2 * s];
        const REAL amcr = xr[q] - xr[q + 2 * s], amci = xi[q] - xi[q + 2 * s];
        const REAL bpdr = xr[q + s] + xr[q + 3 * s], bpdi = xi[q + s] + xi[q + 3 * s];
        const REAL bmdr = xr[q + s] - xr[q + 3 * s], bmdi = xi[q + s] - xi[q + 3 * s];
        yr[q] = apcr + bpdr;
        yi[q] = apci + bpdi;
        yr[q + s] = amcr + bmdi;
        yi[q + s] = amci - bmdr;
        yr[q + 2 * s] = apcr - bpdr;
        yi[q + 2 * s] = apci - bpdi;
        yr[q + 3 * s] = amcr - bmdi;
        yi[q + 3 * s] = amci + bmdr;
    }
}

/* The last pass when log2(h) is odd (nsub = 8): a twiddle-free radix-8 DFT in one sweep
 * instead of a radix-4 and a radix-2 pass. Split as one radix-2 step, u_j = x_j + x_(j+4) and
 * v_j = (x_j - x_(j+4)) W8^j, then DFT4(u) gives the even outputs and DFT4(v) the odd. */
static void FN(lg_pass8_last)(Py_ssize_t s,
                              const REAL *restrict xr, const REAL *restrict xi,
                              REAL *restrict yr, REAL *restrict yi)
{
    const REAL r = (REAL)0.70710678118654752440; /* cos(pi/4) = sin(pi/4) */
    LG_IVDEP
    for (Py_ssize_t q = 0; q < s; q++) {
        const REAL u0r = xr[q] + xr[q + 4 * s], u0i = xi[q] + xi[q + 4 * s];
        const REAL u1r = xr[q + s] + xr[q + 5 * s], u1i = xi[q + s] + xi[q + 5 * s];
        const REAL u2r = xr[q + 2 * s] + xr[q + 6 * s], u2i = xi[q + 2 * s] + xi[q + 6 * s];
        const REAL u3r = xr[q + 3 * s] + xr[q + 7 * s], u3i = xi[q + 3 * s] + xi[q + 7 * s];
        const REAL v0r = xr[q] - xr[q + 4 * s], v0i = xi[q] - xi[q + 4 * s];
        const REAL d1r = xr[q + s] - xr[q + 5 * s], d1i = xi[q + s] - xi[q + 5 * s];
        const REAL d2r = xr[q + 2 * s] - xr[q + 6 * s], d2i = xi[q + 2 * s] - xi[q + 6 * s];
        const REAL d3r = xr[q + 3 * s] - xr[q + 7 * s], d3i = xi[q + 3 * s] - xi[q + 7 * s];
        /* W8 = r(1 - i), W8^2 = -i, W8^3 = -r(1 + i) */
        const REAL v1r = r * (d1r + d1i), v1i = r * (d1i - d1r);
        const REAL v2r = d2i, v2i = -d2r;
        const REAL v3r = r * (d3i - d3r), v3i = -r * (d3r + d3i);
        /* DFT4(a, b, c, d): (a+c)+(b+d), (a-c)-j(b-d), (a+c)-(b+d), (a-c)+j(b-d) */
        const REAL pu_r = u0r + u2r, pu_i = u0i + u2i, mu_r = u0r - u2r, mu_i = u0i - u2i;
        const REAL qu_r = u1r + u3r, qu_i = u1i + u3i, nu_r = u1r - u3r, nu_i = u1i - u3i;
        yr[q] = pu_r + qu_r;
        yi[q] = pu_i + qu_i;
        yr[q + 2 * s] = mu_r + nu_i;
        yi[q + 2 * s] = mu_i - nu_r;
        yr[q + 4 * s] = pu_r - qu_r;
        yi[q + 4 * s] = pu_i - qu_i;
        yr[q + 6 * s] = mu_r - nu_i;
        yi[q + 6 * s] = mu_i + nu_r;
        const REAL pv_r = v0r + v2r, pv_i = v0i + v2i, mv_r = v0r - v2r, mv_i = v0i - v2i;
        const REAL qv_r = v1r + v3r, qv_i = v1i + v3i, nv_r = v1r - v3r, nv_i = v1i - v3i;
        yr[q + s] = pv_r + qv_r;
        yi[q + s] = pv_i + qv_i;
        yr[q + 3 * s] = mv_r + nv_i;
        yi[q + 3 * s] = mv_i - nv_r;
        yr[q + 5 * s] = pv_r - qv_r;
        yi[q + 5 * s] = pv_i - qv_i;
        yr[q + 7 * s] = mv_r - nv_i;
        yi[q + 7 * s] = mv_i + nv_r;
    }
}

static void FN(lg_plan_free)(PLAN *pl)
{
    free(pl->block);
    pl->block = NULL;
}

static Py_ssize_t FN(lg_round64)(Py_ssize_t count)
{
    /* every array starts on a cache line, and LG_GAP_BYTES after the previous one ends */
    Py_ssize_t bytes = count * (Py_ssize_t)sizeof(REAL);
    return ((bytes + 63) / 64) * 64 + LG_GAP_BYTES;
}

/* n must be a power of two >= 32 (the API allows 64..8192): after the fused radix-4 first pass,
 * n/8 >= 4 points must remain for the last pass. Returns 0, or -1 when out of memory.
 * Twiddles are computed in double from exact integer angles, then rounded once to REAL. */
static int FN(lg_plan_init)(PLAN *pl, Py_ssize_t n)
{
    Py_ssize_t h = n / 2, nsub, m, k, twcount = 0;
    pl->n = n;
    pl->h = h;
    for (nsub = h; nsub >= 16; nsub /= 4) twcount += 6 * LG_TWSTRIDE(nsub / 4);
    Py_ssize_t sizes[8] = {FN(lg_round64)(twcount), FN(lg_round64)(h), FN(lg_round64)(h),
                           FN(lg_round64)(h), FN(lg_round64)(h), FN(lg_round64)(h),
                           FN(lg_round64)(h), FN(lg_round64)(h + 1)};
    Py_ssize_t total = 0;
    for (k = 0; k < 8; k++) total += sizes[k];
    char *block = (char *)aligned_alloc(64, (size_t)total);
    if (block == NULL) return -1;
    pl->block = block;
    REAL **slots[8] = {&pl->tw, &pl->post_c, &pl->post_s, &pl->ar, &pl->ai, &pl->br, &pl->bi,
                       &pl->power};
    for (k = 0; k < 8; k++) {
        *slots[k] = (REAL *)block;
        block += sizes[k];
    }
    REAL *tw = pl->tw;
    for (nsub = h; nsub >= 16; nsub /= 4) {
        m = nsub / 4;
        for (Py_ssize_t p = 0; p < m; p++) {
            for (int r = 1; r <= 3; r++) {
                double angle = -2.0 * M_PI * (double)(r * p) / (double)nsub;
                tw[(2 * r - 2) * LG_TWSTRIDE(m) + p] = (REAL)cos(angle);
                tw[(2 * r - 1) * LG_TWSTRIDE(m) + p] = (REAL)sin(angle);
            }
        }
        tw += 6 * LG_TWSTRIDE(m);
    }
    for (k = 0; k < h; k++) {
        double angle = 2.0 * M_PI * (double)k / (double)n;
        pl->post_c[k] = (REAL)(0.5 * cos(angle));
        pl->post_s[k] = (REAL)(0.5 * sin(angle));
    }
    return 0;
}

/* Z = FFT_h(z) of the packed frame (see lg_pass4_first); returns the buffer holding Z.
 * Passes: the fused first radix-4 pass, radix-4 passes while the sub-transforms have 16 or
 * more points, then a twiddle-free radix-4 (nsub = 4) or radix-8 (nsub = 8) pass. */
static LG_INLINE void FN(lg_transform)(PLAN *pl, const REAL *restrict x, const REAL *restrict w,
                                       REAL offset, int windowed, const REAL **outr,
                                       const REAL **outi)
{
    REAL *xr = pl->ar, *xi = pl->ai, *yr = pl->br, *yi = pl->bi, *t;
    const REAL *tw = pl->tw;
    Py_ssize_t nsub = pl->h / 4, s = 4;
    FN(lg_pass4_first)(nsub, x, w, offset, windowed, xr, xi, tw);
    tw += 6 * LG_TWSTRIDE(nsub);
    for (; nsub >= 16; nsub /= 4, s *= 4) {
        FN(lg_pass4)(nsub / 4, s, xr, xi, yr, yi, tw);
        tw += 6 * LG_TWSTRIDE(nsub / 4);
        t = xr; xr = yr; yr = t;
        t = xi; xi = yi; yi = t;
    }
    if (nsub == 8) FN(lg_pass8_last)(s, xr, xi, yr, yi);
    else FN(lg_pass4_last)(s, xr, xi, yr, yi);
    *outr = yr;
    *outi = yi;
}

/* The untangling step of the real FFT, for the twin bins k and h-k together. With A = Z[k],
 * B = Z[h-k], E = (A + conj B)/2 and T = exp(-2 pi i k/n) (A - conj B)/(2i):
 * X[k] = E + T and X[h-k] = conj(E - T). (c, s) are the halved cos/sin from the plan. */
#define LG_UNTANGLE(ar, ai, br, bi, c, s)                                                  \
    const REAL dr_ = (ar) - (br), si_ = (ai) + (bi);                                     \
    const REAL er_ = (REAL)0.5 * ((ar) + (br)), ei_ = (REAL)0.5 * ((ai) - (bi));         \
    const REAL tr_ = (c) * si_ - (s) * dr_, ti_ = -(c) * dr_ - (s) * si_;                \
    const REAL xkr = er_ + tr_, xki = ei_ + ti_, xtr = er_ - tr_, xti = ti_ - ei_

/* |X[k]|^2 for k = 0..h of the windowed real frame, stored into (or with accumulate added
 * to) out. */
static void FN(lg_power)(PLAN *pl, const REAL *restrict x, const REAL *restrict w, REAL offset,
                         REAL *restrict out, int accumulate)
{
    const REAL *zr, *zi;
    FN(lg_transform)(pl, x, w, offset, 1, &zr, &zi);
    const Py_ssize_t h = pl->h, half = h / 2;
    const REAL *restrict pc = pl->post_c, *restrict ps = pl->post_s;
    const REAL *restrict ar = zr, *restrict ai = zi;
    const REAL p0 = (zr[0] + zi[0]) * (zr[0] + zi[0]);
    const REAL ph = (zr[0] - zi[0]) * (zr[0] - zi[0]);
    LG_UNTANGLE(ar[half], ai[half], ar[half], ai[half], pc[half], ps[half]);
    (void)xtr; /* bin h/2 is its own twin */
    (void)xti;
    const REAL pmid = xkr * xkr + xki * xki;
    if (accumulate) {
        out[0] += p0;
        out[h] += ph;
        out[half] += pmid;
        LG_IVDEP
        for (Py_ssize_t k = 1; k < half; k++) {
            LG_UNTANGLE(ar[k], ai[k], ar[h - k], ai[h - k], pc[k], ps[k]);
            out[k] += xkr * xkr + xki * xki;
            out[h - k] += xtr * xtr + xti * xti;
        }
    } else {
        out[0] = p0;
        out[h] = ph;
        out[half] = pmid;
        LG_IVDEP
        for (Py_ssize_t k = 1; k < half; k++) {
            LG_UNTANGLE(ar[k], ai[k], ar[h - k], ai[h - k], pc[k], ps[k]);
            out[k] = xkr * xkr + xki * xki;
            out[h - k] = xtr * xtr + xti * xti;
        }
    }
}

/* The complex spectrum X[k], k = 0..h, interleaved (re, im) as numpy's complex layout. */
static void FN(lg_spectrum)(PLAN *pl, const REAL *restrict x, REAL *restrict out)
{
    const REAL *zr, *zi;
    FN(lg_transform)(pl, x, NULL, 0, 0, &zr, &zi);
    const Py_ssize_t h = pl->h, half = h / 2;
    const REAL *restrict pc = pl->post_c, *restrict ps = pl->post_s;
    const REAL *restrict ar = zr, *restrict ai = zi;
    out[0] = zr[0] + zi[0];
    out[1] = 0;
    out[2 * h] = zr[0] - zi[0];
    out[2 * h + 1] = 0;
    LG_IVDEP
    for (Py_ssize_t k = 1; k < half; k++) {
        LG_UNTANGLE(ar[k], ai[k], ar[h - k], ai[h - k], pc[k], ps[k]);
        out[2 * k] = xkr;
        out[2 * k + 1] = xki;
        out[2 * (h - k)] = xtr;
        out[2 * (h - k) + 1] = xti;
    }
    LG_UNTANGLE(ar[half], ai[half], ar[half], ai[half], pc[half], ps[half]);
    (void)xtr;
    (void)xti;
    out[2 * half] = xkr;
    out[2 * half + 1] = xki;
}

/* Sum of v[a..b) in double with eight independent accumulators: a single running sum is bound
 * by the adder's latency (about 4 cycles per element); eight chains keep the units busy and
 * let the compiler pair them into SIMD registers without reassociation flags. */
static double FN(lg_sum)(const REAL *restrict v, Py_ssize_t a, Py_ssize_t b)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    Py_ssize_t i = a;
    for (; i + 8 <= b; i += 8) {
        s0 += v[i];
        s1 += v[i + 1];
        s2 += v[i + 2];
        s3 += v[i + 3];
        s4 += v[i + 4];
        s5 += v[i + 5];
        s6 += v[i + 6];
        s7 += v[i + 7];
    }
    for (; i < b; i++) s0 += v[i];
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
}

#undef PLAN
#undef LG_UNTANGLE
#undef LG_GAP_BYTES
#undef LG_TWSTRIDE
#undef FN
#undef LG_CAT
#undef LG_CAT_
