"""The elevator controller link: register profiles, Modbus client, poller."""
