"""Build liftguard: the Python packages, the console script and the Cython DSP kernels.

The extension list is explicit on purpose: each kernel module in cext/ is named here, so a
build never silently skips one.
"""

import numpy
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

# -O3 lets gcc vectorise the butterfly loops; no -march=native, because wheels built on a
# bench PC must still run on a Raspberry Pi's Cortex-A72/A76.
COMPILE_ARGS = ["-O3", "-fno-math-errno"]

EXTENSIONS = [
    Extension(
        "cext._dsp",
        ["cext/_dsp.pyx"],
        # the C real-FFT core the module wraps: a change there must trigger a rebuild
        depends=["cext/fft_core.h", "cext/fft_template.h", "cext/_fft_core.pxd"],
        include_dirs=["cext", numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=COMPILE_ARGS,
    ),
    Extension(
        "cext._features",
        ["cext/_features.pyx"],
        extra_compile_args=COMPILE_ARGS,
    ),
]

setup(
    name="liftguard",
    version="0.1.0",
    description="Elevator sensor box: Modbus controller link, wear detection, durable MQTT alarms",
    python_requires=">=3.11",
    packages=find_packages(include=["agent*", "drivers*", "calibration*", "cext*"]),
    package_data={
        "drivers": ["profiles/*.toml"],
        "cext": ["*.pyx", "*.pxd", "*.h"],
        "agent": ["schemas/*.json"],
    },
    ext_modules=cythonize(
        EXTENSIONS,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    ),
    install_requires=[
        "pymodbus==3.16.1",
        "pyserial==3.5",
        "paho-mqtt==2.2.0",
        "numpy>=2.0,<3",
        "cryptography>=42,<49",
        # commissioning report plots (calibration/report.py imports it lazily, Agg backend)
        "matplotlib>=3.8,<4",
    ],
    extras_require={
        # Raspberry Pi 5: replace RPi.GPIO with rpi-lgpio (same module name); pyalsaaudio
        # builds against libasound2-dev.
        "pi": ["RPi.GPIO>=0.7", "spidev>=3.6", "smbus2>=0.4", "pyalsaaudio>=0.10"],
    },
    entry_points={"console_scripts": ["liftguard=agent.cli:main"]},
    zip_safe=False,
)
