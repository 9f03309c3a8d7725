/* healthobj.h: strop._engine.Health (healthobj.c) over health.h.  Needs the GIL. */
#ifndef STROP_HEALTHOBJ_H
#define STROP_HEALTHOBJ_H

#include "compat.h"

#include "health.h"

/* Adds the Health type to `module`.  Returns 0, or -1 with an exception set. */
int strop_health_add_type(PyObject *module);

/* The recorder inside `obj`, a Health object (borrowed: valid while `obj`
 * lives); NULL with TypeError set when `obj` is not one, or RuntimeError
 * when it was never started.  Needs the GIL. */
StropHealthRec *strop_health_rec_of(PyObject *obj);

#endif /* STROP_HEALTHOBJ_H */
