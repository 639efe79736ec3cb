/*
 * libFuzzer harness for the allow-list table: the input's lines are keys
 * ("name", "netbios\name", "user@suffix"); the table built from them must
 * find every name in every domain it was listed for, and the same keys in
 * reverse order must make an equal table.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_exa_table.h"


#define NKEYS  64


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t            i, n, bytes, tsize;
    void             *buf, *buf2;
    const uint8_t    *p, *last, *eol, *bs;
    ngx_exa_str_t     keys[NKEYS], rev[NKEYS];
    ngx_exa_table_t  *t, *t2;

    n = 0;
    bytes = 0;
    p = data;
    last = data + size;

    while (p < last && n < NKEYS) {
        eol = memchr(p, '\n', last - p);
        eol = eol ? eol : last;
        keys[n].data = p;
        keys[n].len = eol - p;
        bytes += keys[n].len;
        n++;
        p = eol + 1;
    }

    tsize = ngx_exa_table_size(n, bytes);
    buf = malloc(tsize);
    buf2 = malloc(tsize);

    if (buf == NULL || buf2 == NULL) {
        free(buf);
        free(buf2);
        return 0;
    }

    t = ngx_exa_table_build(buf, tsize, keys, n);

    for (i = 0; i < n; i++) {
        rev[i] = keys[n - 1 - i];
    }

    t2 = ngx_exa_table_build(buf2, tsize, rev, n);

    if ((t == NULL) != (t2 == NULL)) {
        abort();
    }

    if (t) {
        if (t->size > tsize || t->ntags > NGX_EXA_TAGS_MAX
            || !ngx_exa_table_equal(t, t2))
        {
            abort();
        }

        for (i = 0; i < n; i++) {
            bs = memchr(keys[i].data, '\\', keys[i].len);

            if (bs == NULL) {
                if (!ngx_exa_table_lookup(t, keys[i].data, keys[i].len,
                                          NULL, 0, 0)
                    || !ngx_exa_table_lookup(t, keys[i].data, keys[i].len,
                                             (const unsigned char *) "x", 1,
                                             1))
                {
                    abort();
                }

                continue;
            }

            if (!ngx_exa_table_lookup(t, bs + 1,
                                      keys[i].len - (bs - keys[i].data) - 1,
                                      keys[i].data, bs - keys[i].data, 0))
            {
                abort();
            }
        }
    }

    free(buf);
    free(buf2);

    return 0;
}
