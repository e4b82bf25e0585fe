// Compiled with _GNU_SOURCE so the Linux-only declarations are visible here and
// nowhere else (defining it in a module header breaks Glibc's Swift module).
#define _GNU_SOURCE
#include "CLinuxShims.h"
