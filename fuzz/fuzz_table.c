/*
 * libFuzzer harness for the allow-list table: the input's lines are keys
 * ("name", "netbios\name", "user@suffix"); the table built from them must
 * find every name in every domain it was listed for, and the same keys in
 * reverse order must make an equal table.  Built a few keys or slots at a
 * time (ngx_exa_table_build_step()), it is the same table byte for byte;
 * compared a slot at a time with a table of the keys less the last one,
 * or with the last one in another domain, the answer is the one of a
 * plain comparison of the two tables' names and domains, made here.  The
 * NetBIOS tags counted a few keys at a time (ngx_exa_table_tags_step())
 * are as many as counted in one go, and as the table holds.  A name near
 * one of the keys (a byte changed, one more, one less) is found exactly
 * when a plain search of the keys finds it.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_exa_table.h"


#define NKEYS  64


typedef struct {
    const ngx_exa_table_t  *from;
    const ngx_exa_table_t  *in;
} pair_t;


/* every domain the name has in "from" it has "in" */

static int
contained(void *data, const unsigned char *key, size_t len, uint32_t domains)
{
    uint32_t  i;
    pair_t   *p = data;

    if (!ngx_exa_table_lookup(p->in, key, len, NULL, 0, 0)) {
        return 1;
    }

    if ((domains & NGX_EXA_TABLE_BARE)
        && !ngx_exa_table_lookup(p->in, key, len,
                                 (const unsigned char *) "", 0, 1))
    {
        return 1;
    }

    for (i = 0; i < p->from->ntags; i++) {
        if ((domains & ((uint32_t) 1 << i))
            && !ngx_exa_table_lookup(p->in, key, len,
                                     p->from->tags[i] + 1,
                                     p->from->tags[i][0], 0))
        {
            return 1;
        }
    }

    return 0;
}


static int
same(const ngx_exa_table_t *a, const ngx_exa_table_t *b)
{
    pair_t  p;

    p.from = a;
    p.in = b;

    if (ngx_exa_table_walk(a, contained, &p) != 0) {
        return 0;
    }

    p.from = b;
    p.in = a;

    return ngx_exa_table_walk(b, contained, &p) == 0;
}


/*
 * The comparison, "work" slots at a time; with walk, also where the
 * checksums differ, so that the walk is what answers
 */

static int
equal_by(const ngx_exa_table_t *a, const ngx_exa_table_t *b, size_t work,
    int walk)
{
    int                  rc;
    ngx_exa_table_cmp_t  cmp;

    ngx_exa_table_equal_start(&cmp, a, b);

    if (walk && cmp.result == 0 && a->nelts == b->nelts
        && a->ntags == b->ntags)
    {
        cmp.result = NGX_EXA_TABLE_AGAIN;
    }

    do {
        rc = ngx_exa_table_equal_step(&cmp, work);
    } while (rc == NGX_EXA_TABLE_AGAIN);

    return rc;
}


/* the NetBIOS tags of the keys counted "work" keys at a time */

static size_t
tags_by(const ngx_exa_str_t *keys, size_t n, size_t work)
{
    ngx_exa_table_tagger_t  tg;

    ngx_exa_table_tags_start(&tg, keys, n);

    while (ngx_exa_table_tags_step(&tg, work) == NGX_EXA_TABLE_AGAIN) {
        /* void */
    }

    return tg.n;
}


/* the table built "work" keys or slots at a time, in its own buffer */

static ngx_exa_table_t *
build_by(void *buf, size_t size, const ngx_exa_str_t *keys, size_t n,
    size_t work)
{
    int                      rc;
    ngx_exa_table_builder_t  b;

    ngx_exa_table_build_start(&b, buf, size, keys, n);

    do {
        rc = ngx_exa_table_build_step(&b, work);
    } while (rc == NGX_EXA_TABLE_AGAIN);

    return rc == 0 ? b.t : NULL;
}


/* the name of a key: after its NetBIOS tag */

static void
name_of(const ngx_exa_str_t *key, ngx_exa_str_t *name)
{
    const unsigned char  *bs;

    bs = memchr(key->data, '\\', key->len);

    name->data = bs ? bs + 1 : key->data;
    name->len = bs ? (size_t) (key->len - (bs + 1 - key->data)) : key->len;
}


/* whether a name is one of the keys', searched one by one */

static int
listed(const ngx_exa_str_t *keys, size_t n, const unsigned char *p,
    size_t len)
{
    size_t         i;
    ngx_exa_str_t  nm;

    for (i = 0; i < n; i++) {
        name_of(&keys[i], &nm);

        if (nm.len == len && memcmp(nm.data, p, len) == 0) {
            return 1;
        }
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int               c;
    size_t            i, n, bytes, tsize, work;
    void             *buf, *buf2, *buf3;
    ngx_exa_str_t     nm;
    const uint8_t    *p, *last, *eol, *bs;
    ngx_exa_str_t     keys[NKEYS], rev[NKEYS];
    ngx_exa_table_t  *t, *t2, *t3;
    unsigned char     other[NGX_EXA_KEY_MAX + 8];

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

    tsize = ngx_exa_table_size(n, bytes + 2);
    buf = calloc(1, tsize);
    buf2 = calloc(1, tsize);
    buf3 = calloc(1, tsize);

    if (buf == NULL || buf2 == NULL || buf3 == NULL) {
        free(buf);
        free(buf2);
        free(buf3);
        return 0;
    }

    work = size ? 1 + data[0] % 13 : 1;

    t = ngx_exa_table_build(buf, tsize, keys, n);

    for (i = 0; i < n; i++) {
        rev[i] = keys[n - 1 - i];
    }

    t2 = ngx_exa_table_build(buf2, tsize, rev, n);

    if ((t == NULL) != (t2 == NULL)) {
        abort();
    }

    /*
     * the tags counted in steps: the count of one go, and the table's own
     * when it was built (a key that is no name is not counted)
     */

    if (tags_by(keys, n, work) != ngx_exa_table_tags(keys, n)
        || (t && ngx_exa_table_tags(keys, n) != t->ntags))
    {
        abort();
    }

    /* built in steps: the same bytes */

    t3 = build_by(buf3, tsize, keys, n, work);

    if ((t == NULL) != (t3 == NULL)
        || (t && memcmp(t, t3, t->size) != 0))
    {
        abort();
    }

    if (t) {
        if (equal_by(t, t2, work, 0) != 1 || !same(t, t2)) {
            abort();
        }

        /* the keys less the last one */

        memset(buf3, 0, tsize);
        t3 = n ? build_by(buf3, tsize, keys, n - 1, work) : NULL;

        if (t3 && (equal_by(t, t3, work, 0) != same(t, t3)
                   || equal_by(t3, t, work, 1) != same(t3, t)
                   || ngx_exa_table_equal(t, t3) != same(t, t3)))
        {
            abort();
        }

        /* the last one in another domain, or in one where it was bare */

        if (n && keys[n - 1].len < NGX_EXA_KEY_MAX) {
            bs = memchr(keys[n - 1].data, '\\', keys[n - 1].len);
            other[0] = 'z';
            other[1] = '\\';
            i = bs ? (size_t) (keys[n - 1].len - (bs + 1 - keys[n - 1].data))
                   : keys[n - 1].len;
            memcpy(other + 2, bs ? bs + 1 : keys[n - 1].data, i);
            rev[0].data = other;
            rev[0].len = i + 2;
            memcpy(rev + 1, keys, (n - 1) * sizeof(ngx_exa_str_t));

            memset(buf3, 0, tsize);
            t3 = build_by(buf3, tsize, rev, n, work);

            if (t3 && (equal_by(t, t3, work, 0) != same(t, t3)
                       || equal_by(t3, t, work, 1) != same(t3, t)))
            {
                abort();
            }
        }
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

    /*
     * each name with a byte changed, one more or one less: found exactly
     * when a plain search of the names finds it
     */

    if (t) {
        for (i = 0; i < n; i++) {
            name_of(&keys[i], &nm);

            if (nm.len == 0 || nm.len >= NGX_EXA_KEY_MAX) {
                continue;
            }

            for (c = 0; c < 3; c++) {
                memcpy(other, nm.data, nm.len);
                nm.data = other;

                if (c == 0) {
                    other[(data[0] + i) % nm.len] ^= 0x20;

                } else if (c == 1) {
                    other[nm.len++] = 'a';

                } else {
                    nm.len--;
                }

                if (nm.len
                    && ngx_exa_table_lookup(t, other, nm.len, NULL, 0, 0)
                       != listed(keys, n, other, nm.len))
                {
                    abort();
                }

                name_of(&keys[i], &nm);
            }
        }
    }

    free(buf);
    free(buf2);
    free(buf3);

    return 0;
}
