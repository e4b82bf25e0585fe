// Compiled with _GNU_SOURCE so the Linux-only declarations are visible here and
// nowhere else (defining it in a module header breaks Glibc's Swift module).
#define _GNU_SOURCE
#include "CLinuxShims.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

int cl_o_path(void) { return O_PATH; }
int cl_o_noatime(void) { return O_NOATIME; }
int cl_at_empty_path(void) { return AT_EMPTY_PATH; }

int cl_statx(int dirfd, const char *path, int flags, struct cl_statx_result *out) {
    struct statx st;
    unsigned int mask = STATX_BASIC_STATS | STATX_MNT_ID;
    if (statx(dirfd, path, flags, mask, &st) != 0) return -1;
    out->mask = st.stx_mask;
    out->blksize = st.stx_blksize;
    out->attributes = st.stx_attributes;
    out->nlink = st.stx_nlink;
    out->uid = st.stx_uid;
    out->gid = st.stx_gid;
    out->mode = st.stx_mode;
    out->ino = st.stx_ino;
    out->size = st.stx_size;
    out->blocks = st.stx_blocks;
    out->atime_sec = st.stx_atime.tv_sec;  out->atime_nsec = st.stx_atime.tv_nsec;
    out->btime_sec = st.stx_btime.tv_sec;  out->btime_nsec = st.stx_btime.tv_nsec;
    out->ctime_sec = st.stx_ctime.tv_sec;  out->ctime_nsec = st.stx_ctime.tv_nsec;
    out->mtime_sec = st.stx_mtime.tv_sec;  out->mtime_nsec = st.stx_mtime.tv_nsec;
    out->rdev = makedev(st.stx_rdev_major, st.stx_rdev_minor);
    out->dev = makedev(st.stx_dev_major, st.stx_dev_minor);
    out->mnt_id = (st.stx_mask & STATX_MNT_ID) ? st.stx_mnt_id : 0;
    return 0;
}

int64_t cl_seek_data(int fd, int64_t offset) { return lseek(fd, offset, SEEK_DATA); }
int64_t cl_seek_hole(int fd, int64_t offset) { return lseek(fd, offset, SEEK_HOLE); }

int cl_get_inode_flags(int fd, uint32_t *flags) {
    // The kernel reads and writes an int here despite the `long` in the macro's type.
    int value = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &value) != 0) return -1;
    *flags = (uint32_t)value;
    return 0;
}

int cl_set_inode_flags(int fd, uint32_t flags) {
    int value = (int)flags;
    return ioctl(fd, FS_IOC_SETFLAGS, &value);
}

uint64_t cl_makedev(uint32_t major, uint32_t minor) { return makedev(major, minor); }
uint32_t cl_major(uint64_t dev) { return major(dev); }
uint32_t cl_minor(uint64_t dev) { return minor(dev); }

ssize_t cl_flistxattr(int fd, char *list, size_t size) { return flistxattr(fd, list, size); }
ssize_t cl_llistxattr(const char *path, char *list, size_t size) { return llistxattr(path, list, size); }
ssize_t cl_fgetxattr(int fd, const char *name, void *value, size_t size) {
    return fgetxattr(fd, name, value, size);
}
ssize_t cl_lgetxattr(const char *path, const char *name, void *value, size_t size) {
    return lgetxattr(path, name, value, size);
}
int cl_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags) {
    return fsetxattr(fd, name, value, size, flags);
}
int cl_lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags) {
    return lsetxattr(path, name, value, size, flags);
}
int cl_fremovexattr(int fd, const char *name) { return fremovexattr(fd, name); }
int cl_lremovexattr(const char *path, const char *name) { return lremovexattr(path, name); }

const char *cl_errno_name(int code) { return strerrorname_np(code); }
const char *cl_errno_description(int code) { return strerrordesc_np(code); }

ssize_t cl_getrandom(void *buffer, size_t length, unsigned int flags) {
    return getrandom(buffer, length, flags);
}
int cl_syncfs(int fd) { return syncfs(fd); }
int cl_start_writeback(int fd) { return sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE); }
