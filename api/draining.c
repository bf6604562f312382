#include "draining.h"

#include <stdatomic.h>

static atomic_bool state;

void draining_begin(void)
{
    atomic_store(&state, true);
}

bool draining(void)
{
    return atomic_load(&state);
}
