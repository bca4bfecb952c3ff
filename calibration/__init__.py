"""Commissioning on site: the technician's workflows and the lift's calibration file.

    document.py    the versioned, checksummed, signed calibration file; atomic write, rollback
    loader.py      how the agent takes a calibration up (validated, refused with a reason)
    console.py     prompts and progress bars with injectable input/output
    rigs.py        what a workflow measures through: the box's parts, or the virtual elevator
    sensing.py     capturing a sensor stream; a dead sensor is refused
    mounting.py    accelerometer alignment and mounting checks (pure)
    calibrator.py  microphone sensitivity from a 94/114 dB calibrator, background level (pure)
    trips.py       guided trip capture; tripcheck.py: anomalies and baseline stability (pure)
    workflows.py   controller, accel, noise; baseline_flow.py: baseline and verify
    session.py     commit: calibration file, report, maintenance-trail event
    report.py      the HTML commissioning report with PNG plots (matplotlib, lazily)
"""
