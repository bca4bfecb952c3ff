"""liftguard agent: the daemon and its command line. Importing it touches no hardware."""

__version__ = "0.1.0"
