"""A filesystem wrapper for the outbox tests: power fails after a given number of bytes
written or filesystem operations, like a board losing its supply mid-write.

Everything before the cut really reached the (emulated) flash, including a partly written
file; after the cut every call raises PowerCut, as nothing runs any more.
"""

import os


class PowerCut(Exception):
    pass


class _File:
    def __init__(self, fs, f):
        self.fs, self.f = fs, f

    def write(self, data):
        left = self.fs.budget_bytes
        if left is not None and len(data) > left:
            self.f.write(data[:left])
            self.fs.budget_bytes = 0
            self.fs.dead = True
            raise PowerCut("during write")
        if left is not None:
            self.fs.budget_bytes = left - len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


class CuttingFS:
    def __init__(self, budget_bytes=None, budget_ops=None):
        self.budget_bytes, self.budget_ops = budget_bytes, budget_ops
        self.dead = False

    def _op(self):
        if self.dead:
            raise PowerCut("board is off")
        if self.budget_ops is not None:
            if self.budget_ops == 0:
                self.dead = True
                raise PowerCut("before a filesystem operation")
            self.budget_ops -= 1

    def open(self, path, mode="r"):
        self._op()
        return _File(self, open(path, mode))

    def rename(self, a, b):
        self._op()
        os.rename(a, b)

    def remove(self, p):
        self._op()
        os.remove(p)

    def mkdir(self, p):
        self._op()
        os.mkdir(p)

    def listdir(self, p):
        self._op()
        return os.listdir(p)
