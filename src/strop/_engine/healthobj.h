/* healthobj.h: strop._engine.Health (healthobj.c) over health.h.  Needs the GIL. */
#ifndef STROP_HEALTHOBJ_H
#define STROP_HEALTHOBJ_H

#include "compat.h"

/* Adds the Health type to `module`.  Returns 0, or -1 with an exception set. */
int strop_health_add_type(PyObject *module);

#endif /* STROP_HEALTHOBJ_H */
