"""Noise sensors: a Modbus sound level meter on the controller's RS-485 bus, an ALSA
microphone, and (through drivers.accel.sim_stream / drivers.replay) the sim and replay."""
