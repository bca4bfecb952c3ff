"""RS-485 half-duplex plumbing: who drives the bus, and hearing ourselves."""
