// CLinuxShims: what Swift cannot import from Glibc directly.
// Every symbol is prefixed `cl_`; each has a comment saying why it exists.
#ifndef CLINUXSHIMS_H
#define CLINUXSHIMS_H

#include <stdint.h>

#endif
