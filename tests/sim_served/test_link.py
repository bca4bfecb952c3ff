"""Pty pairs by socat, stopped by PID, and the user's link path."""

import os

import pytest

from drivers.sim.link import ControllerLink, LinkError, PtyPair


def test_bytes_written_at_one_end_come_out_at_the_other(pty_pair):
    a = os.open(pty_pair.a, os.O_RDWR | os.O_NOCTTY)
    b = os.open(pty_pair.b, os.O_RDWR | os.O_NOCTTY)
    try:
        os.write(a, b"\x01\x03\x10\x11")
        got = b""
        while len(got) < 4:
            got += os.read(b, 16)
        assert got == b"\x01\x03\x10\x11"
    finally:
        os.close(a)
        os.close(b)


def test_stop_ends_the_socat_process(tmp_path):
    pair = PtyPair(tmp_path, "p")
    pair.start()
    pid = pair.pid
    pair.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not os.path.exists(pair.a) or not (tmp_path / "p-a").exists()


def test_link_points_at_the_target_and_is_removed(tmp_path):
    link = ControllerLink(str(tmp_path / "lift0"))
    link.create("/dev/pts/999")
    assert os.readlink(tmp_path / "lift0") == "/dev/pts/999"
    link.remove()
    assert not (tmp_path / "lift0").is_symlink()


def test_an_existing_path_is_busy(tmp_path):
    (tmp_path / "lift0").write_text("")
    with pytest.raises(LinkError, match="busy"):
        ControllerLink(str(tmp_path / "lift0")).check_free()


def test_a_live_symlink_is_busy(tmp_path):
    os.symlink(tmp_path, tmp_path / "lift0")
    with pytest.raises(LinkError, match="busy"):
        ControllerLink(str(tmp_path / "lift0")).create("/dev/pts/999")


def test_a_dangling_symlink_of_a_killed_run_is_replaced(tmp_path):
    os.symlink("/dev/pts/no-such-pty", tmp_path / "lift0")
    link = ControllerLink(str(tmp_path / "lift0"))
    link.create("/dev/pts/999")
    assert os.readlink(tmp_path / "lift0") == "/dev/pts/999"


def test_a_missing_directory_is_named(tmp_path):
    with pytest.raises(LinkError, match="does not exist"):
        ControllerLink(str(tmp_path / "nope" / "lift0")).check_free()


def test_a_replaced_link_is_left_alone(tmp_path):
    link = ControllerLink(str(tmp_path / "lift0"))
    link.create("/dev/pts/999")
    os.unlink(tmp_path / "lift0")
    os.symlink("/dev/pts/1000", tmp_path / "lift0")
    link.remove()
    assert os.readlink(tmp_path / "lift0") == "/dev/pts/1000"
