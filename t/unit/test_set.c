/*
 * Sets of byte strings: every string added is found, at every point of a
 * growth (the old slots are moved a few at a time), added once, and its
 * memory counted and given back.  An array grows one element at a time
 * from a few bytes to megabytes (into a mapping of its own, moved as it
 * grows) and keeps every element.  A set built in the slots another left
 * behind sees nothing of it.
 */

#include "unit.h"
#include "ngx_exa_set.h"


int
main(void)
{
    int              rc;
    char             s[32];
    size_t          *a, na, bad;
    size_t           i, j, n, len, missing, during;
    ngx_exa_mem_t    mem;
    ngx_exa_set_t    set;
    ngx_exa_arena_t  arena;

    memset(&mem, 0, sizeof(mem));
    memset(&arena, 0, sizeof(arena));
    memset(&set, 0, sizeof(set));
    arena.mem = &mem;
    set.arena = &arena;

    CHECK(!ngx_exa_set_has(&set, (const unsigned char *) "a", 1),
          "empty set has nothing");

    n = 200000;
    missing = 0;
    during = 0;

    for (i = 0; i < n; i++) {
        len = (size_t) snprintf(s, sizeof(s), "uid=user%06zu,ou=people", i);

        rc = ngx_exa_set_add(&set, (const unsigned char *) s, len);
        if (rc != 1) {
            break;
        }

        if (set.old) {
            during++;

            /* while slots are being moved: all so far are there */

            if (i % 997 == 0) {
                for (j = 0; j <= i; j += 7) {
                    len = (size_t) snprintf(s, sizeof(s),
                                            "uid=user%06zu,ou=people", j);
                    if (!ngx_exa_set_has(&set, (const unsigned char *) s,
                                         len)
                        || ngx_exa_set_add(&set, (const unsigned char *) s,
                                           len) != 0)
                    {
                        missing++;
                    }
                }
            }
        }
    }

    CHECK(i == n && set.nelts == n, "200000 added (%zu, %zu)", i, set.nelts);
    CHECK(during > 1000, "added while old slots were moved: %zu", during);
    CHECK(missing == 0, "found and not added twice during moves: %zu missing",
          missing);

    for (i = 0; i < n; i++) {
        len = (size_t) snprintf(s, sizeof(s), "uid=user%06zu,ou=people", i);
        if (!ngx_exa_set_has(&set, (const unsigned char *) s, len)) {
            break;
        }
    }

    CHECK(i == n, "all found after (stopped at %zu)", i);

    len = (size_t) snprintf(s, sizeof(s), "uid=user%06zu,ou=people", n);
    CHECK(!ngx_exa_set_has(&set, (const unsigned char *) s, len),
          "one more is not there");
    CHECK(ngx_exa_set_add(&set, (const unsigned char *) "", 0) == 1
          && ngx_exa_set_has(&set, (const unsigned char *) "", 0),
          "the empty string is a string");

    ngx_exa_set_free(&set);
    ngx_exa_arena_free(&arena);
    CHECK(mem.used == 0, "all memory given back (%zu left)", mem.used);

    /*
     * Again, other strings, in the slots the first set left as spares,
     * full of its slots: a growth's slots are zeroed before it, a few at
     * each addition, and nothing of the first set is seen
     */

    during = 0;

    for (i = 0; i < n; i++) {
        len = (size_t) snprintf(s, sizeof(s), "cn=other%06zu,ou=people", i);

        if (ngx_exa_set_add(&set, (const unsigned char *) s, len) != 1) {
            break;
        }

        during += (set.next != NULL);
    }

    CHECK(i == n && set.nelts == n, "200000 more added (%zu, %zu)", i,
          set.nelts);
    CHECK(during > 1000, "growths made ready in spares over %zu additions",
          during);

    for (i = 0, missing = 0, bad = 0; i < n; i++) {
        len = (size_t) snprintf(s, sizeof(s), "cn=other%06zu,ou=people", i);
        missing += !ngx_exa_set_has(&set, (const unsigned char *) s, len);

        len = (size_t) snprintf(s, sizeof(s), "uid=user%06zu,ou=people", i);
        bad += ngx_exa_set_has(&set, (const unsigned char *) s, len);
    }

    CHECK(missing == 0 && bad == 0, "all found (%zu missing), none of the "
          "first set (%zu)", missing, bad);

    ngx_exa_set_free(&set);
    ngx_exa_arena_free(&arena);
    CHECK(mem.used == 0, "all memory given back (%zu left)", mem.used);

    /* a limit: adding fails cleanly, what was added stays */

    memset(&mem, 0, sizeof(mem));
    mem.max = 1024 * 1024;

    for (i = 0; i < n; i++) {
        len = (size_t) snprintf(s, sizeof(s), "uid=user%06zu,ou=people", i);
        if (ngx_exa_set_add(&set, (const unsigned char *) s, len) < 0) {
            break;
        }
    }

    CHECK(i < n && mem.over && mem.used <= mem.max,
          "the limit holds: %zu added, %zu bytes", i, mem.used);
    len = (size_t) snprintf(s, sizeof(s), "uid=user%06d,ou=people", 0);
    CHECK(ngx_exa_set_has(&set, (const unsigned char *) s, len),
          "what was added before the limit is there");

    ngx_exa_set_free(&set);
    ngx_exa_arena_free(&arena);
    CHECK(mem.used == 0, "all memory given back (%zu left)", mem.used);

    /* an array from 16 elements to 4 MB, each growth keeping what it had */

    memset(&mem, 0, sizeof(mem));
    a = NULL;
    na = 0;
    bad = 0;
    n = 4 * 1024 * 1024 / sizeof(size_t);

    for (i = 0; i < n; i++) {
        if (ngx_exa_mem_grow(&mem, (void **) &a, &na, i + 1, sizeof(size_t))
            != 0)
        {
            break;
        }

        a[i] = i * 2654435761u;

        /* after each growth: every element written before is there */

        if ((i & (i - 1)) == 0) {
            for (j = 0; j <= i; j++) {
                bad += (a[j] != j * 2654435761u);
            }
        }
    }

    CHECK(i == n && na >= n, "the array grew to %zu elements (%zu)", i, na);
    CHECK(bad == 0, "its elements kept through every growth: %zu lost", bad);
    CHECK(mem.used == na * sizeof(size_t), "its bytes counted (%zu)",
          mem.used);

    ngx_exa_mem_free(&mem, a, na, sizeof(size_t));
    CHECK(mem.used == 0, "the array given back (%zu left)", mem.used);

    /* under a limit a growth fails and leaves the array as it was */

    mem.max = 1024 * 1024;
    a = NULL;
    na = 0;

    for (i = 0; i < n; i++) {
        if (ngx_exa_mem_grow(&mem, (void **) &a, &na, i + 1, sizeof(size_t))
            != 0)
        {
            break;
        }

        a[i] = i;
    }

    for (j = 0, bad = 0; j < i; j++) {
        bad += (a[j] != j);
    }

    CHECK(i < n && mem.over && mem.used <= mem.max && bad == 0,
          "the limit holds for an array: %zu elements, %zu bytes, %zu lost",
          i, mem.used, bad);

    ngx_exa_mem_free(&mem, a, na, sizeof(size_t));
    CHECK(mem.used == 0, "the array given back (%zu left)", mem.used);

    UNIT_DONE("test_set");
}
