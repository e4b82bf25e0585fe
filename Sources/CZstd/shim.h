#include <zstd.h>
/* ZSTD_getErrorCode and the ZSTD_ErrorCode enum, to tell "output too small" from corruption. */
#include <zstd_errors.h>
