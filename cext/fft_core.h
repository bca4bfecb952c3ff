/* Real FFT core in C for the Cython module: the butterflies need `restrict` and plain
 * contiguous loops to vectorise well, which Cython cannot express. The kernels are written once
 * (fft_template.h) and instantiated for float64 (suffix _f64) and float32 (suffix _f32). */
#ifndef LIFTGUARD_FFT_CORE_H
#define LIFTGUARD_FFT_CORE_H

#include <Python.h>
#include <math.h>
#include <stdlib.h>

/* Functions taking a constant flag are forced inline so each call site gets its own copy with
 * the flag folded away. */
#if defined(__GNUC__)
#define LG_INLINE inline __attribute__((always_inline))
#else
#define LG_INLINE inline
#endif

/* The butterfly loops index one buffer at several fixed strides; the streams never overlap
 * within a pass, which gcc cannot prove, so it is told (ivdep) rather than left to give up on
 * vectorising or to add run-time overlap checks. */
#if defined(__GNUC__) && !defined(__clang__)
#define LG_IVDEP _Pragma("GCC ivdep")
#else
#define LG_IVDEP
#endif

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define REAL double
#define SFX _f64
#include "fft_template.h"
#undef REAL
#undef SFX

#define REAL float
#define SFX _f32
#include "fft_template.h"
#undef REAL
#undef SFX

#endif
