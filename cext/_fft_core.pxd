# Declarations of the C real-FFT core (fft_core.h), shared by the Cython modules of cext.

cdef extern from "fft_core.h" nogil:
    ctypedef struct lg_plan_f64:
        Py_ssize_t n
        Py_ssize_t h
        double *power
    ctypedef struct lg_plan_f32:
        Py_ssize_t n
        Py_ssize_t h
        float *power

    int lg_plan_init_f64(lg_plan_f64 *pl, Py_ssize_t n)
    void lg_plan_free_f64(lg_plan_f64 *pl)
    void lg_power_f64(lg_plan_f64 *pl, const double *x, const double *w, double offset,
                      double *out, int accumulate)
    void lg_spectrum_f64(lg_plan_f64 *pl, const double *x, double *out)
    double lg_sum_f64(const double *v, Py_ssize_t a, Py_ssize_t b)

    int lg_plan_init_f32(lg_plan_f32 *pl, Py_ssize_t n)
    void lg_plan_free_f32(lg_plan_f32 *pl)
    void lg_power_f32(lg_plan_f32 *pl, const float *x, const float *w, float offset,
                      float *out, int accumulate)
    void lg_spectrum_f32(lg_plan_f32 *pl, const float *x, float *out)
    double lg_sum_f32(const float *v, Py_ssize_t a, Py_ssize_t b)
