/*
 * The allow-list table: build, lookup, duplicates, equality, limits.
 */

#include "unit.h"
#include "ngx_exa_table.h"


static ngx_exa_str_t
s(const char *p)
{
    ngx_exa_str_t  r;

    r.data = (const unsigned char *) p;
    r.len = strlen(p);

    return r;
}


static ngx_exa_table_t *
build(const ngx_exa_str_t *keys, size_t n)
{
    size_t  i, bytes, size;
    void   *buf;

    bytes = 0;
    for (i = 0; i < n; i++) {
        bytes += keys[i].len;
    }

    size = ngx_exa_table_size(n, bytes);
    buf = malloc(size);

    return ngx_exa_table_build(buf, size, keys, n);
}


static int
lookup(const ngx_exa_table_t *t, const char *k)
{
    return ngx_exa_table_lookup(t, (const unsigned char *) k, strlen(k));
}


int
main(void)
{
    size_t            i, n, size;
    char              name[32];
    ngx_exa_str_t     keys[6], *many;
    ngx_exa_table_t  *t, *t2, *t3;
    unsigned char     small[64];

    keys[0] = s("alice");
    keys[1] = s("bob@example.com");
    keys[2] = s("carol");
    keys[3] = s("alice");            /* duplicate */
    keys[4] = s("j\xc3\xb6rg");      /* UTF-8 */
    keys[5] = s("x");

    t = build(keys, 6);
    CHECK(t != NULL, "build");
    CHECK(t->nelts == 5, "duplicates stored once: %u", t->nelts);
    CHECK(lookup(t, "alice"), "alice");
    CHECK(lookup(t, "bob@example.com"), "bob upn");
    CHECK(lookup(t, "j\xc3\xb6rg"), "utf-8 key");
    CHECK(lookup(t, "x"), "one-byte key");
    CHECK(!lookup(t, "Alice"), "lookups are exact: keys are normalised");
    CHECK(!lookup(t, "alic"), "prefix");
    CHECK(!lookup(t, "alicee"), "longer");
    CHECK(!lookup(t, "bob"), "bob");
    CHECK(!ngx_exa_table_lookup(t, (const unsigned char *) "", 0), "empty");
    CHECK(!ngx_exa_table_lookup(NULL, (const unsigned char *) "a", 1),
          "no table");

    /* the same set in another order is equal; another set is not */

    keys[0] = s("carol");
    keys[2] = s("alice");
    t2 = build(keys, 6);
    CHECK(ngx_exa_table_equal(t, t2), "same set, other order");

    keys[5] = s("y");
    t3 = build(keys, 6);
    CHECK(!ngx_exa_table_equal(t, t3), "other set");
    CHECK(!ngx_exa_table_equal(t, NULL), "against none");

    /* empty table: valid, finds nothing */

    t3 = build(keys, 0);
    CHECK(t3 != NULL && t3->nelts == 0, "empty table");
    CHECK(!lookup(t3, "alice"), "empty finds nothing");

    /* a buffer that is too small, an empty key, a key too long */

    CHECK(ngx_exa_table_build(small, sizeof(small), keys, 6) == NULL,
          "small buffer refused");

    keys[0] = s("");
    CHECK(build(keys, 1) == NULL, "empty key refused");

    memset(name, 'a', sizeof(name));
    many = malloc(sizeof(ngx_exa_str_t));
    many[0].data = malloc(NGX_EXA_KEY_MAX + 1);
    memset((void *) many[0].data, 'a', NGX_EXA_KEY_MAX + 1);
    many[0].len = NGX_EXA_KEY_MAX + 1;
    CHECK(build(many, 1) == NULL, "key over the limit refused");
    many[0].len = NGX_EXA_KEY_MAX;
    t3 = build(many, 1);
    CHECK(t3 != NULL && ngx_exa_table_lookup(t3, many[0].data,
                                             NGX_EXA_KEY_MAX),
          "key at the limit");

    /* 100000 keys: all found, none of another range */

    n = 100000;
    many = malloc(n * sizeof(ngx_exa_str_t));

    for (i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "user%06zu", i);
        many[i].len = strlen(name);
        many[i].data = (unsigned char *) strdup(name);
    }

    t = build(many, n);
    CHECK(t != NULL && t->nelts == n, "100000 keys");

    for (i = 0; i < n; i++) {
        if (!ngx_exa_table_lookup(t, many[i].data, many[i].len)) {
            break;
        }
    }
    CHECK(i == n, "all 100000 found (stopped at %zu)", i);

    for (i = n; i < 2 * n; i++) {
        snprintf(name, sizeof(name), "user%06zu", i);
        if (lookup(t, name)) {
            break;
        }
    }
    CHECK(i == 2 * n, "none of the next 100000 found");

    size = ngx_exa_table_size(n, 10 * n);
    CHECK(t->size <= size, "size bound holds: %u <= %zu", t->size, size);

    UNIT_DONE("test_table");
}
