/*
 * A minimal check harness for the unit tests of the pure parts.
 */

#ifndef _UNIT_H_INCLUDED_
#define _UNIT_H_INCLUDED_

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int  unit_checks;
static int  unit_failures;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        unit_checks++;                                                       \
        if (!(cond)) {                                                       \
            unit_failures++;                                                 \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);             \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
        }                                                                    \
    } while (0)

#define UNIT_DONE(name)                                                      \
    do {                                                                     \
        printf("%s: %d checks, %d failed\n", name, unit_checks,              \
               unit_failures);                                               \
        return unit_failures ? 1 : 0;                                        \
    } while (0)

#endif
