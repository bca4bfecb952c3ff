/* Real FFT core in C for the Cython module: the butterflies need `restrict` and plain
 * contiguous loops to vectorise well, which Cython cannot express. The kernels are written once
 * (fft_template.h) and instantiated for float64 (suffix _f64) and float32 (suffix _f32). */
#ifndef LIFTGUARD_FFT_CORE_H
#define LIFTGUARD_FFT_CORE_H

#include <Python.h>
#include <math.h>
#include <stdlib.h>

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
