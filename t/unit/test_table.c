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
    return ngx_exa_table_lookup(t, (const unsigned char *) k, strlen(k),
                                NULL, 0, 0);
}


/* a sAMAccountName of a NetBIOS domain; first: the first configured */

static int
lookup_in(const ngx_exa_table_t *t, const char *k, const char *domain,
    int first)
{
    return ngx_exa_table_lookup(t, (const unsigned char *) k, strlen(k),
                                (const unsigned char *) domain,
                                strlen(domain), first);
}


/* the NetBIOS tags counted work keys at a time, in how many calls */

static size_t
tags_by(const ngx_exa_str_t *keys, size_t n, size_t work, size_t *calls)
{
    ngx_exa_table_tagger_t  tg;

    ngx_exa_table_tags_start(&tg, keys, n);
    *calls = 1;

    while (ngx_exa_table_tags_step(&tg, work) == NGX_EXA_TABLE_AGAIN) {
        (*calls)++;
    }

    CHECK(ngx_exa_table_tags_step(&tg, work) == 0, "counted stays counted");

    return tg.n;
}


/* counted a part at a time: the count of one go, in as many calls */

static void
tags_steps(const ngx_exa_str_t *keys, size_t n)
{
    size_t  i, one, calls, works[] = { 1, 2, 5, 1000 };

    one = ngx_exa_table_tags(keys, n);

    for (i = 0; i < sizeof(works) / sizeof(works[0]); i++) {
        CHECK(tags_by(keys, n, works[i], &calls) == one,
              "%zu keys counted %zu at a time: %zu tags", n, works[i], one);
        CHECK(one > NGX_EXA_TAGS_MAX || calls >= n / works[i],
              "%zu keys counted %zu at a time: %zu calls", n, works[i],
              calls);
    }
}


/*
 * Domains: "domain\name" keys and bare keys of one name share an entry
 * with the set of its domains; a name from domain D matches only a key of
 * D, or a bare key when D is the first domain; a UPN and a lookup without
 * a domain match whatever the domains.
 */

static void
domains(void)
{
    int               i;
    char              tag[32], k[64];
    size_t            calls;
    ngx_exa_str_t     keys[8], many[40];
    ngx_exa_table_t  *t, *t2;

    keys[0] = s("alice");
    keys[1] = s("child\\alice");
    keys[2] = s("child\\bob");
    keys[3] = s("example\\carol");
    keys[4] = s("erin@example.com");
    keys[5] = s("child\\alice");           /* duplicate */
    keys[6] = s("other\\dave");
    keys[7] = s("dave");

    CHECK(ngx_exa_table_tags(keys, 8) == 3, "three NetBIOS tags");

    t = build(keys, 8);
    CHECK(t != NULL && t->nelts == 5 && t->ntags == 3,
          "one entry a name, three tags");

    /* EXAMPLE is the first domain, CHILD the second, OTHER the third */

    CHECK(lookup_in(t, "alice", "example", 1), "bare alice is EXAMPLE's");
    CHECK(lookup_in(t, "alice", "child", 0), "child\\alice");
    CHECK(lookup_in(t, "bob", "child", 0), "child\\bob");
    CHECK(!lookup_in(t, "bob", "example", 1), "bob is not EXAMPLE's");
    CHECK(lookup_in(t, "carol", "example", 1), "example\\carol");
    CHECK(!lookup_in(t, "carol", "child", 0), "carol is not CHILD's");
    CHECK(!lookup_in(t, "dave", "child", 0), "dave is OTHER's and bare");
    CHECK(lookup_in(t, "dave", "other", 0), "other\\dave");
    CHECK(lookup_in(t, "dave", "example", 1), "bare dave");
    CHECK(!lookup_in(t, "dave", "nowhere", 0), "an unknown tag");
    CHECK(lookup_in(t, "alice", "child", 1), "bare bit when first");
    CHECK(!lookup_in(t, "carol", "other", 0), "carol of OTHER");
    CHECK(lookup(t, "erin@example.com"), "a UPN as a whole");
    CHECK(lookup(t, "bob"), "no domains: the domain does not matter");
    CHECK(!lookup(t, "child\\bob"), "keys hold no domain");

    /* the same names and domains in another order are equal */

    keys[0] = s("other\\dave");
    keys[6] = s("alice");
    t2 = build(keys, 8);
    CHECK(ngx_exa_table_equal(t, t2), "same pairs, other order, other tags");

    keys[7] = s("child\\dave");
    t2 = build(keys, 8);
    CHECK(!ngx_exa_table_equal(t, t2), "a name in another domain differs");
    CHECK(!ngx_exa_table_equal(t2, t), "both ways");

    keys[7] = s("dave");
    keys[5] = s("example\\alice");
    t2 = build(keys, 8);
    CHECK(!ngx_exa_table_equal(t, t2), "one more domain for a name differs");

    /* malformed keys and more than 31 tags */

    keys[0] = s("\\alice");
    CHECK(build(keys, 1) == NULL, "empty tag");
    keys[0] = s("abcdefghijklmnop\\alice");
    CHECK(build(keys, 1) == NULL, "tag over 15 bytes");
    keys[0] = s("child\\");
    CHECK(build(keys, 1) == NULL, "empty name");

    for (i = 0; i < 40; i++) {
        snprintf(tag, sizeof(tag), "d%d\\u", i);
        many[i].data = (unsigned char *) strdup(tag);
        many[i].len = strlen(tag);
    }

    CHECK(ngx_exa_table_tags(many, 31) == 31, "31 tags");
    CHECK(ngx_exa_table_tags(many, 32) == 32, "32 counted");
    CHECK(ngx_exa_table_tags(many, 40) == 32, "no more than 32 counted");

    tags_steps(keys, 8);
    tags_steps(keys, 0);
    tags_steps(many, 31);
    tags_steps(many, 32);
    tags_steps(many, 40);
    CHECK(tags_by(many, 40, 3, &calls) == 32 && calls == 11,
          "counting ends at the 32nd tag, in 11 calls of 3: %zu", calls);
    t = build(many, 31);
    CHECK(t != NULL && t->nelts == 1 && t->ntags == 31, "31 tags fit");

    for (i = 0; i < 31; i++) {
        snprintf(k, sizeof(k), "d%d", i);
        CHECK(lookup_in(t, "u", k, 0), "u of %s", k);
    }

    CHECK(!lookup_in(t, "u", "example", 1), "u is no bare entry");
    CHECK(build(many, 32) == NULL, "32 tags do not");
}


/*
 * Built and compared a part at a time: the same table byte for byte, the
 * same answers, whatever the size of the parts.
 */

static void
steps(const ngx_exa_str_t *keys, size_t n)
{
    int                      rc;
    size_t                   i, size, bytes, calls, works[] = { 1, 3, 1000 };
    void                    *one, *buf;
    ngx_exa_str_t           *other;
    ngx_exa_table_t         *t, *t2;
    ngx_exa_table_cmp_t      cmp;
    ngx_exa_table_builder_t  b;

    bytes = 0;
    for (i = 0; i < n; i++) {
        bytes += keys[i].len;
    }

    size = ngx_exa_table_size(n, bytes + 16);
    one = calloc(1, size);
    buf = calloc(1, size);
    t = ngx_exa_table_build(one, size, keys, n);

    for (i = 0; i < sizeof(works) / sizeof(works[0]); i++) {
        memset(buf, 0, size);
        ngx_exa_table_build_start(&b, buf, size, keys, n);
        calls = 0;

        do {
            rc = ngx_exa_table_build_step(&b, works[i]);
            calls++;
        } while (rc == NGX_EXA_TABLE_AGAIN);

        CHECK(rc == 0 && b.t != NULL && memcmp(b.t, t, t->size) == 0,
              "built %zu at a time: the same bytes", works[i]);
        CHECK(calls > n / works[i], "built %zu at a time: %zu calls",
              works[i], calls);
        CHECK(ngx_exa_table_build_step(&b, 1) == 0, "built stays built");

        ngx_exa_table_equal_start(&cmp, t, b.t);
        calls = 0;

        do {
            rc = ngx_exa_table_equal_step(&cmp, works[i]);
            calls++;
        } while (rc == NGX_EXA_TABLE_AGAIN);

        CHECK(rc == 1 && calls > (t->mask + 1) / works[i] / 2,
              "compared %zu at a time: equal, in %zu calls", works[i], calls);
    }

    /* one name in another domain: the checksum tells, and the walk too */

    other = malloc(n * sizeof(ngx_exa_str_t));
    memcpy(other, keys, n * sizeof(ngx_exa_str_t));
    other[n / 2].data = (const unsigned char *) "corp\\user050000";
    other[n / 2].len = strlen("corp\\user050000");

    t2 = build(other, n);
    CHECK(t2 != NULL && !ngx_exa_table_equal(t, t2), "another domain differs");

    ngx_exa_table_equal_start(&cmp, t, t2);
    CHECK(cmp.result == 0, "told before any walk");

    cmp.result = NGX_EXA_TABLE_AGAIN;

    do {
        rc = ngx_exa_table_equal_step(&cmp, 7);
    } while (rc == NGX_EXA_TABLE_AGAIN);

    CHECK(rc == 0, "told by the walk");

    /* a key that is no name: refused at the check, before any write */

    other[n - 1].len = 0;
    memset(buf, 0x5a, size);
    ngx_exa_table_build_start(&b, buf, size, other, n);

    do {
        rc = ngx_exa_table_build_step(&b, 100);
    } while (rc == NGX_EXA_TABLE_AGAIN);

    CHECK(rc == -1 && b.t == NULL && ((unsigned char *) buf)[0] == 0x5a,
          "an empty key refused, nothing written");
    CHECK(ngx_exa_table_build_step(&b, 100) == -1, "refused stays refused");

    free(other);
    free(one);
    free(buf);
}


/*
 * The hash reads every byte of a key, of every length (a short key as two
 * words that may overlap): a byte changed anywhere changes it.  And the
 * table against a plain search of its keys, by their lengths and bytes:
 * keys of every length from 1 to 40, found; each with one byte changed,
 * or one byte more or less, found exactly when such a key is listed.
 */

static void
hash_and_compare(void)
{
    int               found, want;
    size_t            i, j, k, len, n;
    uint32_t          h;
    unsigned char     a[80], b[80];
    ngx_exa_str_t     keys[40];
    ngx_exa_table_t  *t;
    static unsigned char  names[40][41];

    for (len = 1; len <= 64; len++) {
        for (i = 0; i < len; i++) {
            a[i] = (unsigned char) ('a' + (i * 7 + len) % 26);
        }

        h = ngx_exa_hash(a, len);

        for (i = 0; i < len; i++) {
            memcpy(b, a, len);
            b[i] ^= 0x01;
            CHECK(ngx_exa_hash(b, len) != h, "hash of %zu bytes: byte %zu",
                  len, i);
            b[i] ^= 0x81;
            CHECK(ngx_exa_hash(b, len) != h, "hash of %zu bytes: top of %zu",
                  len, i);
        }

        CHECK(ngx_exa_hash(a, len - 1) != h, "hash of %zu bytes: shorter",
              len);
    }

    /* keys of 1 to 40 bytes, each its length's own letters */

    for (i = 0; i < 40; i++) {
        for (j = 0; j <= i; j++) {
            names[i][j] = (unsigned char) ('a' + (i + j * 3) % 26);
        }

        keys[i].data = names[i];
        keys[i].len = i + 1;
    }

    t = build(keys, 40);
    CHECK(t != NULL, "40 keys");

    if (t == NULL) {
        return;
    }

    for (i = 0; i < 40; i++) {
        len = i + 1;

        CHECK(ngx_exa_table_lookup(t, names[i], len, NULL, 0, 0),
              "key of %zu bytes", len);

        for (k = 0; k < len + 2; k++) {
            memcpy(a, names[i], len);
            n = len;

            if (k < len) {
                a[k] ^= 0x20;                /* one byte changed */

            } else if (k == len) {
                a[n++] = 'a';                /* one more */

            } else {
                n--;                         /* one less */
            }

            want = 0;

            for (j = 0; j < 40; j++) {
                want |= keys[j].len == n && memcmp(names[j], a, n) == 0;
            }

            found = n && ngx_exa_table_lookup(t, a, n, NULL, 0, 0);

            CHECK(found == want, "key of %zu bytes, change %zu: %d, want %d",
                  len, k, found, want);
        }
    }

    free(t);
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
    CHECK(!lookup(t, ""), "empty");
    CHECK(!lookup(NULL, "a"), "no table");

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
                                             NGX_EXA_KEY_MAX, NULL, 0, 0),
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
        if (!ngx_exa_table_lookup(t, many[i].data, many[i].len, NULL, 0,
                                  0))
        {
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

    steps(many, n);

    domains();

    hash_and_compare();

    UNIT_DONE("test_table");
}
