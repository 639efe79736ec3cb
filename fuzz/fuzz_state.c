/*
 * libFuzzer harness for the state file's reader: whatever it accepts, once
 * written again, reads back as the same list.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_exa_state.h"


typedef struct {
    ngx_exa_str_t   keys[1024];
    size_t          n;
} got_t;


static int
keep(void *data, const unsigned char *key, size_t len)
{
    got_t          *g = data;
    unsigned char  *k;

    if (g->n == 1024 || (k = malloc(len ? len : 1)) == NULL) {
        return -1;
    }

    memcpy(k, key, len);
    g->keys[g->n].data = k;
    g->keys[g->n].len = len;
    g->n++;

    return 0;
}


static void
drop(got_t *g)
{
    while (g->n) {
        free((void *) g->keys[--g->n].data);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          i, line;
    got_t           a, b;
    unsigned char  *file, *end;

    a.n = 0;

    if (ngx_exa_state_parse(data, size, keep, &a, &line) == NGX_EXA_STATE_OK) {
        file = malloc(ngx_exa_state_size(1, a.keys, a.n));
        if (file == NULL) {
            drop(&a);
            return 0;
        }

        end = ngx_exa_state_write(file, (const unsigned char *) "x", 1,
                                  a.keys, a.n);
        b.n = 0;

        if (ngx_exa_state_parse(file, end - file, keep, &b, &line)
            != NGX_EXA_STATE_OK || b.n != a.n)
        {
            abort();
        }

        for (i = 0; i < a.n; i++) {
            if (a.keys[i].len != b.keys[i].len
                || memcmp(a.keys[i].data, b.keys[i].data, a.keys[i].len) != 0)
            {
                abort();
            }
        }

        drop(&b);
        free(file);
    }

    drop(&a);

    return 0;
}
