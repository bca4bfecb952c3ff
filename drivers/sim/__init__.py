"""The virtual elevator: one physics model feeding controller registers and sensor streams."""
