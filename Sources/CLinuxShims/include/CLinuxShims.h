// CLinuxShims: what Swift cannot import from Glibc directly.
// Every symbol is prefixed `cl_`; each has a comment saying why it exists.
//
// Nothing here may need _GNU_SOURCE in the header itself (defining it in a module header breaks
// Glibc's Swift module), so Linux-only types such as `struct statx` are mirrored by plain structs.
#ifndef CLINUXSHIMS_H
#define CLINUXSHIMS_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

// --- open(2) / *at(2) flags that Glibc only declares under _GNU_SOURCE --------------------------

/// O_PATH: an fd that names an inode without opening it (used to reach symlinks without following).
int cl_o_path(void);
/// O_NOATIME: read files without updating their atime (a backup should not touch atimes).
int cl_o_noatime(void);
/// AT_EMPTY_PATH: operate on the fd itself in the *at calls (statx on an already opened fd).
int cl_at_empty_path(void);

// --- statx(2) -----------------------------------------------------------------------------------

/// A flat copy of `struct statx`, whose declaration needs _GNU_SOURCE.
struct cl_statx_result {
    uint32_t mask;
    uint32_t blksize;
    uint64_t attributes;
    uint32_t nlink;
    uint32_t uid;
    uint32_t gid;
    uint16_t mode;          // file type and permission bits
    uint64_t ino;
    uint64_t size;
    uint64_t blocks;        // 512-byte units
    int64_t atime_sec;  uint32_t atime_nsec;
    int64_t btime_sec;  uint32_t btime_nsec;
    int64_t ctime_sec;  uint32_t ctime_nsec;
    int64_t mtime_sec;  uint32_t mtime_nsec;
    uint64_t rdev;          // composed with makedev()
    uint64_t dev;           // composed with makedev(), comparable with stat's st_dev
    uint64_t mnt_id;
};

/// statx(2) wrapper: the glibc declaration and struct statx are _GNU_SOURCE-only. Asks for the
/// basic stats plus the mount id. Returns 0 or -1 with errno set (EINTR is left to the caller).
int cl_statx(int dirfd, const char *path, int flags, struct cl_statx_result *out);

// --- lseek(2) SEEK_DATA / SEEK_HOLE -------------------------------------------------------------

/// lseek(fd, offset, SEEK_DATA): SEEK_DATA is a _GNU_SOURCE constant. Returns -1/ENXIO past data.
int64_t cl_seek_data(int fd, int64_t offset);
/// lseek(fd, offset, SEEK_HOLE): see cl_seek_data.
int64_t cl_seek_hole(int fd, int64_t offset);

// --- inode flags (chattr/lsattr) ----------------------------------------------------------------

/// ioctl(fd, FS_IOC_GETFLAGS): the request code is a function-like _IOR macro Swift cannot import.
int cl_get_inode_flags(int fd, uint32_t *flags);
/// ioctl(fd, FS_IOC_SETFLAGS): see cl_get_inode_flags.
int cl_set_inode_flags(int fd, uint32_t flags);

// --- device numbers -----------------------------------------------------------------------------

/// makedev/major/minor are macros over inline functions in <sys/sysmacros.h>.
uint64_t cl_makedev(uint32_t major, uint32_t minor);
uint32_t cl_major(uint64_t dev);
uint32_t cl_minor(uint64_t dev);

// --- extended attributes ------------------------------------------------------------------------
// <sys/xattr.h> is not part of Glibc's Swift module map; these forward to it unchanged.

ssize_t cl_flistxattr(int fd, char *list, size_t size);
ssize_t cl_llistxattr(const char *path, char *list, size_t size);
ssize_t cl_fgetxattr(int fd, const char *name, void *value, size_t size);
ssize_t cl_lgetxattr(const char *path, const char *name, void *value, size_t size);
int cl_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags);
int cl_lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags);
int cl_fremovexattr(int fd, const char *name);
int cl_lremovexattr(const char *path, const char *name);

// --- errno names --------------------------------------------------------------------------------

/// strerrorname_np (glibc 2.32, _GNU_SOURCE): "ENOENT" for 2. NULL for unknown codes.
const char *cl_errno_name(int code);
/// strerrordesc_np (glibc 2.32, _GNU_SOURCE): thread-safe, locale-independent description.
const char *cl_errno_description(int code);

// --- misc ---------------------------------------------------------------------------------------

/// getrandom(2): declared in <sys/random.h>, which is not in Glibc's Swift module map.
ssize_t cl_getrandom(void *buffer, size_t length, unsigned int flags);
/// syncfs(2) is _GNU_SOURCE-only; used to make a finished restore durable in one call.
int cl_syncfs(int fd);
/// sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE): starts writing a file's dirty pages back
/// without waiting for them (also _GNU_SOURCE-only).
int cl_start_writeback(int fd);

/// Fixes glibc's mmap threshold at `mmap_threshold` bytes and caps malloc arenas at
/// `arenas`. mallopt and its M_* constants live in <malloc.h>, which Glibc's Swift module
/// does not export. Chunk-sized buffers then go back to the kernel when freed instead of
/// fragmenting the heap (the default threshold grows after every free).
int cl_tune_allocator(int mmap_threshold, int trim_threshold, int arenas);

#endif
