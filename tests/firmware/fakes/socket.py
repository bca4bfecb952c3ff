"""Fake `socket` for the boot test: the broker is unreachable (connection refused)."""

attempts = []


def getaddrinfo(host, port):
    return [(2, 1, 0, "", (host, port))]


class socket:
    def settimeout(self, t):
        pass

    def connect(self, addr):
        attempts.append(addr)
        raise OSError(111, "ECONNREFUSED")

    def close(self):
        pass
