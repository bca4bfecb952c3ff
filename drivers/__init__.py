"""Hardware seams and their backends. Importing this package touches no hardware library."""
