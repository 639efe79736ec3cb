/*
 * libFuzzer harness for name normalisation: the first byte splits the
 * input into a domain and a user; the whole input is also read as a line
 * of a list.  The fast paths of ngx_exa_name_resolve() must answer as
 * ngx_exa_name_resolve_full() does, with a domain and without one.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_exa_name.h"


static void
differ(const ngx_exa_name_conf_t *nc, const unsigned char *buf, size_t split,
    size_t ulen)
{
    int            rc, rc2;
    size_t         klen, klen2, group, group2;
    unsigned char  key[NGX_EXA_KEY_MAX], key2[NGX_EXA_KEY_MAX];

    rc = ngx_exa_name_resolve(nc, buf, split, buf + split, ulen, key, &klen,
                              &group);
    rc2 = ngx_exa_name_resolve_full(nc, buf, split, buf + split, ulen, key2,
                                    &klen2, &group2);

    if (rc != rc2 || klen != klen2 || group != group2
        || memcmp(key, key2, klen) != 0)
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               split, klen, klen2, i, n;
    unsigned char       *buf, *p;
    unsigned char        key[NGX_EXA_KEY_MAX], key2[NGX_EXA_KEY_MAX];
    ngx_exa_str_t        ours[2] = {
        { 7, (const unsigned char *) "example" },
        { 11, (const unsigned char *) "example.com" }
    };
    size_t               groups[] = { 0, 0, 2, 2 };
    size_t               group;
    ngx_exa_str_t        two[4] = {
        { 7, (const unsigned char *) "example" },
        { 11, (const unsigned char *) "example.com" },
        { 5, (const unsigned char *) "child" },
        { 17, (const unsigned char *) "child.example.com" }
    };
    ngx_exa_name_conf_t  nc = { ours, 2, NULL };
    ngx_exa_name_conf_t  nc2 = { two, 4, groups };
    unsigned char        esc[4 * 8192];

    if (size == 0) {
        return 0;
    }

    split = data[0] % size;
    buf = malloc(size);
    if (buf == NULL) {
        return 0;
    }

    memcpy(buf, data + 1, size - 1);

    if (ngx_exa_name_key(&nc, buf, split, buf + split, size - 1 - split, key,
                         &klen)
        == NGX_EXA_NAME_OK)
    {
        /* a key is never empty, never too long, never has upper case */
        if (klen == 0 || klen > NGX_EXA_KEY_MAX) {
            abort();
        }

        for (i = 0; i < klen; i++) {
            if (key[i] >= 'A' && key[i] <= 'Z') {
                abort();
            }
        }
    }

    /* groups: a name of ours names one of the groups, or any domain */

    if (ngx_exa_name_resolve(&nc2, buf, split, buf + split, size - 1 - split,
                             key, &klen, &group)
        == NGX_EXA_NAME_OK
        && group != 0 && group != 2 && group != NGX_EXA_NAME_ANY_DOMAIN)
    {
        abort();
    }

    /* the fast path answers as the full one, with every configuration */

    differ(NULL, buf, split, size - 1 - split);
    differ(&nc, buf, split, size - 1 - split);
    differ(&nc2, buf, split, size - 1 - split);

    /* the whole input as a name without a domain, as Basic gives it */

    differ(NULL, buf, 0, size - 1);
    differ(&nc2, buf, 0, size - 1);

    /* a list line: a key with at most a NetBIOS tag before "\\" */

    if (ngx_exa_name_entry(buf, size - 1, key, &klen) == NGX_EXA_NAME_OK) {
        if (klen == 0 || klen > NGX_EXA_KEY_MAX) {
            abort();
        }

        for (i = 0; i < klen; i++) {
            if (key[i] >= 'A' && key[i] <= 'Z') {
                abort();
            }
        }

        /* what the state file writes, it reads back as it was */

        if (ngx_exa_name_entry(key, klen, key2, &klen2) != NGX_EXA_NAME_OK
            || klen2 != klen || memcmp(key, key2, klen) != 0)
        {
            abort();
        }

        p = memchr(key, '\\', klen);

        if (p && (p == key || p - key > NGX_EXA_TAG_MAX
                  || memchr(p + 1, '\\', klen - (p - key) - 1)))
        {
            abort();
        }
    }

    /* the log escaping: as counted, and nothing raw */

    if (size - 1 <= 8192) {
        n = ngx_exa_log_escape(esc, buf, size - 1);

        if (n != ngx_exa_log_escape(NULL, buf, size - 1)) {
            abort();
        }

        for (i = 0; i < n; i++) {
            if (esc[i] < 0x20 || esc[i] >= 0x7f || esc[i] == '"') {
                abort();
            }
        }
    }

    free(buf);

    return 0;
}
