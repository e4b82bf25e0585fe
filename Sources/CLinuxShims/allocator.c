#include <malloc.h>
#include "CLinuxShims.h"

int cl_tune_allocator(int mmap_threshold, int trim_threshold, int arenas) {
    int ok = mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    ok = ok && mallopt(M_TRIM_THRESHOLD, trim_threshold);
    return ok && mallopt(M_ARENA_MAX, arenas);
}
