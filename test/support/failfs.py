#!/usr/bin/python3
"""A FUSE filesystem holding one file, disk.img, passed through to a backing
file, whose reads and writes fail with EIO while a flag file exists, and
block until it is removed while a second flag file exists: a loop device over
disk.img is a disk that fails (or hangs) on demand, for real, through the
kernel (this kernel has no device-mapper for dm-error/dm-delay).

    failfs.py BACKING MOUNTPOINT FAIL_FLAG HANG_FLAG

Runs in the foreground until unmounted; direct_io so that the page cache never
answers for the backing file. Needs python3-fusepy (Debian) and /dev/fuse.
"""
import errno
import os
import sys
import time

try:
    from fusepy import FUSE, FuseOSError, Operations  # Debian's python3-fusepy
except ImportError:  # fusepy from PyPI
    from fuse import FUSE, FuseOSError, Operations


class FailFs(Operations):
    def __init__(self, backing, fail_flag, hang_flag):
        self.backing = backing
        self.fail_flag = fail_flag
        self.hang_flag = hang_flag

    def _gate(self):
        while os.path.exists(self.hang_flag):
            time.sleep(0.05)
        if os.path.exists(self.fail_flag):
            raise FuseOSError(errno.EIO)

    def getattr(self, path, fh=None):
        if path == "/":
            return dict(st_mode=0o40755, st_nlink=2)
        if path == "/disk.img":
            st = os.stat(self.backing)
            return dict(st_mode=0o100600, st_nlink=1, st_size=st.st_size, st_mtime=st.st_mtime, st_ctime=st.st_ctime, st_atime=st.st_atime)
        raise FuseOSError(errno.ENOENT)

    def readdir(self, path, fh):
        return [".", "..", "disk.img"]

    def open(self, path, flags):
        if path != "/disk.img":
            raise FuseOSError(errno.ENOENT)
        return os.open(self.backing, os.O_RDWR)

    def read(self, path, size, offset, fh):
        self._gate()
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        self._gate()
        return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        os.truncate(self.backing, length)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        self._gate()
        os.fsync(fh)
        return 0

    def release(self, path, fh):
        os.close(fh)
        return 0


if __name__ == "__main__":
    backing, mountpoint, fail_flag, hang_flag = sys.argv[1:5]
    FUSE(FailFs(backing, fail_flag, hang_flag), mountpoint, foreground=True, direct_io=True, nothreads=False)
