"""Recordings: the WAV + sidecar format (contract in shared ARCHITECTURE.md), controller CSV
traces, and the replay backends that play them through the agent as if they were sensors."""
