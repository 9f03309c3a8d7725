/* writers.c: dispatch to the format writers (see writers.h). */
#include "writers.h"

#include <errno.h>

int
strop_write_format(FILE *out, StropFormat format, const StropTree *tree,
                   const StropLabel *labels, const StropWriteInfo *info)
{
    (void)out;
    (void)tree;
    (void)labels;
    (void)info;
    switch (format) {
    default:
        errno = ENOSYS;
        return -1;
    }
}
