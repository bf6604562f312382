/* Field specs shared by more than one resource file. */
#ifndef RESOURCES_SPECS_H
#define RESOURCES_SPECS_H
#include "validate.h"

/* A new line (also inside POST /opportunities and PUT .../lines). */
extern const struct field_spec line_create_fields[];

#endif
