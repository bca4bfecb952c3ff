"""Wear and ride-quality detectors.

The data path, top-down, as the modules are laid out:

    trips       controller speed -> trips and their phases (accel, constant speed, decel ...)
    geometry    lift geometry -> the orders a rope and sheave excite at a given speed
    spectra     cext DSP -> PSDs, order-band levels, A-weighting, third-octave bands
    vibration   constant-speed accel -> rope, sheave and bearing features
    electrical  controller trace -> inverter features (DC-bus dips/ripple, thermal residual)
    ride        trip accel -> ISO 18738-1 style ride-quality metrics
    acoustic    sound pressure -> A-weighted level, drive/fan tone bands
    baseline    healthy features -> robust per-lift, per-speed-range statistics (versioned JSON)
    scoring     features + baseline -> scored findings per kind
    trend, severity, tracker   scores over time -> EWMA/CUSUM trend, hysteresis, persisted state
"""
