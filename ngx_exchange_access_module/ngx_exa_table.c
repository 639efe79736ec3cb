
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <string.h>

#include "ngx_exa_table.h"


#define ngx_exa_slots(t)  ((uint32_t *) ((unsigned char *) (t)               \
                                         + sizeof(ngx_exa_table_t)))


static int ngx_exa_table_same(const unsigned char *a, const unsigned char *b,
    size_t len);
static uint32_t ngx_exa_table_nslots(size_t nkeys);
static int ngx_exa_table_split(const ngx_exa_str_t *key, ngx_exa_str_t *tag,
    ngx_exa_str_t *name);
static int ngx_exa_table_tag(const ngx_exa_table_t *t,
    const unsigned char *tag, size_t len);
static const unsigned char *ngx_exa_table_find(const ngx_exa_table_t *t,
    const unsigned char *key, size_t len);
static uint32_t ngx_exa_table_pair(uint32_t h, size_t len,
    const ngx_exa_str_t *tag);


/*
 * Eight bytes at a time, mixed by multiplication: the keys of a table come
 * from the directory, not from clients, and a table lives in one host's
 * memory, so the byte order it reads words in does not matter.
 */

uint32_t
ngx_exa_hash(const unsigned char *p, size_t len)
{
    size_t    i;
    uint64_t  h, w;

    h = 0x9e3779b97f4a7c15ULL ^ len;

    for ( /* void */ ; len >= 8; p += 8, len -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }

    w = 0;

    for (i = 0; i < len; i++) {
        w |= (uint64_t) p[i] << (8 * i);
    }

    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdULL;

    return (uint32_t) (h >> 32);
}


/* whether two keys of the same length are the same, no call for short ones */

static int
ngx_exa_table_same(const unsigned char *a, const unsigned char *b, size_t len)
{
    uint64_t  x, y;

    for ( /* void */ ; len >= 8; a += 8, b += 8, len -= 8) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);

        if (x != y) {
            return 0;
        }
    }

    for ( /* void */ ; len; len--) {
        if (*a++ != *b++) {
            return 0;
        }
    }

    return 1;
}


static uint32_t
ngx_exa_table_nslots(size_t nkeys)
{
    uint32_t  n;

    n = 8;

    while (n < 2 * nkeys) {
        n <<= 1;
    }

    return n;
}


size_t
ngx_exa_table_size(size_t nkeys, size_t keybytes)
{
    if (nkeys > 0x10000000 || keybytes > 0x40000000) {
        return 0;
    }

    return sizeof(ngx_exa_table_t)
           + 2 * sizeof(uint32_t) * ngx_exa_table_nslots(nkeys)
           + 7 * nkeys + keybytes;   /* domains, length, padding */
}


/*
 * "netbios\name" into its tag and name, "name" into no tag and the name.
 * Returns 0, or -1 if a part is empty or too long.
 */

static int
ngx_exa_table_split(const ngx_exa_str_t *key, ngx_exa_str_t *tag,
    ngx_exa_str_t *name)
{
    const unsigned char  *bs;

    bs = memchr(key->data, '\\', key->len);

    if (bs == NULL) {
        tag->data = NULL;
        tag->len = 0;
        *name = *key;

    } else {
        tag->data = key->data;
        tag->len = bs - key->data;
        name->data = bs + 1;
        name->len = key->len - tag->len - 1;

        if (tag->len == 0 || tag->len > NGX_EXA_TAG_MAX) {
            return -1;
        }
    }

    if (name->len == 0 || name->len > NGX_EXA_KEY_MAX) {
        return -1;
    }

    return 0;
}


/* the index of a tag in the header, or -1 */

static int
ngx_exa_table_tag(const ngx_exa_table_t *t, const unsigned char *tag,
    size_t len)
{
    uint32_t  i;

    for (i = 0; i < t->ntags && i < NGX_EXA_TAGS_MAX; i++) {
        if (t->tags[i][0] == len && memcmp(t->tags[i] + 1, tag, len) == 0) {
            return (int) i;
        }
    }

    return -1;
}


/* how many NetBIOS names the keys are tagged with (up to 32 are counted) */

size_t
ngx_exa_table_tags(const ngx_exa_str_t *keys, size_t nkeys)
{
    size_t           i, j, n;
    ngx_exa_str_t    tag, name, seen[NGX_EXA_TAGS_MAX + 1];

    n = 0;

    for (i = 0; i < nkeys && n <= NGX_EXA_TAGS_MAX; i++) {
        if (ngx_exa_table_split(&keys[i], &tag, &name) != 0
            || tag.len == 0)
        {
            continue;
        }

        for (j = 0; j < n; j++) {
            if (seen[j].len == tag.len
                && memcmp(seen[j].data, tag.data, tag.len) == 0)
            {
                break;
            }
        }

        if (j == n) {
            seen[n++] = tag;
        }
    }

    return n;
}


/* what one (name, domain) pair adds to the checksum */

static uint32_t
ngx_exa_table_pair(uint32_t h, size_t len, const ngx_exa_str_t *tag)
{
    return h * 2654435761u + (uint32_t) len
           + (tag->len ? ngx_exa_hash(tag->data, tag->len) * 40503u
                       : 0x9e3779b9u);
}


/*
 * Builds the table in buf, which must hold ngx_exa_table_size() bytes for
 * the same keys.  A name listed several times is stored once, with every
 * domain it was listed for.  Returns NULL if a key is empty or too long,
 * if the keys name more than 31 NetBIOS domains, or if buf is too small.
 */

ngx_exa_table_t *
ngx_exa_table_build(void *buf, size_t size, const ngx_exa_str_t *keys,
    size_t nkeys)
{
    int               tag;
    size_t            i, keybytes, need, off;
    uint16_t          klen, elen;
    uint32_t          h, j, nslots, *slots, bit, domains;
    unsigned char    *base, *e;
    ngx_exa_str_t     tname, name;
    ngx_exa_table_t  *t;

    keybytes = 0;

    for (i = 0; i < nkeys; i++) {
        if (ngx_exa_table_split(&keys[i], &tname, &name) != 0) {
            return NULL;
        }

        keybytes += keys[i].len;
    }

    need = ngx_exa_table_size(nkeys, keybytes);

    if (need == 0 || need > size || need > UINT32_MAX) {
        return NULL;
    }

    base = buf;
    t = buf;
    nslots = ngx_exa_table_nslots(nkeys);

    memset(base, 0, sizeof(ngx_exa_table_t) + 2 * sizeof(uint32_t) * nslots);

    t->magic = NGX_EXA_TABLE_MAGIC;
    t->mask = nslots - 1;

    slots = ngx_exa_slots(t);
    off = sizeof(ngx_exa_table_t) + 2 * sizeof(uint32_t) * nslots;

    for (i = 0; i < nkeys; i++) {
        (void) ngx_exa_table_split(&keys[i], &tname, &name);

        bit = NGX_EXA_TABLE_BARE;

        if (tname.len) {
            tag = ngx_exa_table_tag(t, tname.data, tname.len);

            if (tag < 0) {
                if (t->ntags == NGX_EXA_TAGS_MAX) {
                    return NULL;
                }

                tag = (int) t->ntags++;
                t->tags[tag][0] = (unsigned char) tname.len;
                memcpy(t->tags[tag] + 1, tname.data, tname.len);
            }

            bit = (uint32_t) 1 << tag;
        }

        h = ngx_exa_hash(name.data, name.len);
        j = h & t->mask;

        for ( ;; ) {
            if (slots[2 * j + 1] == 0) {
                break;
            }

            if (slots[2 * j] == h) {
                e = base + slots[2 * j + 1];
                memcpy(&elen, e + sizeof(uint32_t), sizeof(uint16_t));

                if (elen == name.len
                    && memcmp(e + sizeof(uint32_t) + sizeof(uint16_t),
                              name.data, name.len)
                       == 0)
                {
                    goto duplicate;
                }
            }

            j = (j + 1) & t->mask;
        }

        klen = (uint16_t) name.len;
        domains = 0;
        memcpy(base + off, &domains, sizeof(uint32_t));
        memcpy(base + off + sizeof(uint32_t), &klen, sizeof(uint16_t));
        memcpy(base + off + sizeof(uint32_t) + sizeof(uint16_t), name.data,
               name.len);

        slots[2 * j] = h;
        slots[2 * j + 1] = (uint32_t) off;

        off += sizeof(uint32_t) + sizeof(uint16_t) + name.len;
        off += off & 1;

        t->nelts++;

    duplicate:

        /* the entry gets the key's domain, once */

        e = base + slots[2 * j + 1];
        memcpy(&domains, e, sizeof(uint32_t));

        if (!(domains & bit)) {
            domains |= bit;
            memcpy(e, &domains, sizeof(uint32_t));
            t->checksum += ngx_exa_table_pair(h, name.len, &tname);
        }
    }

    t->size = (uint32_t) off;

    return t;
}


/* the entry of a name, or NULL */

static const unsigned char *
ngx_exa_table_find(const ngx_exa_table_t *t, const unsigned char *key,
    size_t len)
{
    uint16_t              elen;
    uint32_t              h, j, n;
    const uint32_t       *slots;
    const unsigned char  *base, *e;

    base = (const unsigned char *) t;
    slots = (const uint32_t *) (base + sizeof(ngx_exa_table_t));

    h = ngx_exa_hash(key, len);
    j = h & t->mask;

    for (n = 0; n <= t->mask; n++) {

        if (slots[2 * j + 1] == 0) {
            return NULL;
        }

        if (slots[2 * j] == h) {
            e = base + slots[2 * j + 1];
            memcpy(&elen, e + sizeof(uint32_t), sizeof(uint16_t));

            if (elen == len
                && ngx_exa_table_same(e + sizeof(uint32_t) + sizeof(uint16_t),
                                      key, len))
            {
                return e;
            }
        }

        j = (j + 1) & t->mask;
    }

    return NULL;
}


/*
 * Whether a name is on the list.  tag is the lower-case NetBIOS name of
 * the domain the name is from, and first tells that this domain is the
 * first configured one (bare entries are its); with tag NULL (no domains
 * configured, or a whole UPN) the entry's domains do not matter.  No
 * allocation; at most 31 short comparisons besides the hash lookup.
 */

int
ngx_exa_table_lookup(const ngx_exa_table_t *t, const unsigned char *key,
    size_t len, const unsigned char *tag, size_t taglen, int first)
{
    int                   i;
    uint32_t              domains, want;
    const unsigned char  *e;

    if (t == NULL || t->magic != NGX_EXA_TABLE_MAGIC || len == 0
        || len > NGX_EXA_KEY_MAX)
    {
        return 0;
    }

    e = ngx_exa_table_find(t, key, len);

    if (e == NULL) {
        return 0;
    }

    if (tag == NULL) {
        return 1;
    }

    memcpy(&domains, e, sizeof(uint32_t));

    want = first ? NGX_EXA_TABLE_BARE : 0;

    if (taglen && taglen <= NGX_EXA_TAG_MAX) {
        i = ngx_exa_table_tag(t, tag, taglen);

        if (i >= 0) {
            want |= (uint32_t) 1 << i;
        }
    }

    return (domains & want) != 0;
}


int
ngx_exa_table_walk(const ngx_exa_table_t *t, ngx_exa_table_walk_pt walk,
    void *data)
{
    int                   rc;
    uint16_t              elen;
    uint32_t              j, domains;
    const uint32_t       *slots;
    const unsigned char  *base, *e;

    base = (const unsigned char *) t;
    slots = (const uint32_t *) (base + sizeof(ngx_exa_table_t));

    for (j = 0; j <= t->mask; j++) {
        if (slots[2 * j + 1] == 0) {
            continue;
        }

        e = base + slots[2 * j + 1];
        memcpy(&domains, e, sizeof(uint32_t));
        memcpy(&elen, e + sizeof(uint32_t), sizeof(uint16_t));

        rc = walk(data, e + sizeof(uint32_t) + sizeof(uint16_t), elen,
                  domains);
        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


typedef struct {
    const ngx_exa_table_t  *from;
    const ngx_exa_table_t  *in;
} ngx_exa_table_pair_t;


/* every domain of the entry in "from" is a domain of the same name "in" */

static int
ngx_exa_table_contains(void *data, const unsigned char *key, size_t len,
    uint32_t domains)
{
    int                    tag;
    uint32_t               i, other;
    const unsigned char   *e;
    ngx_exa_table_pair_t  *p = data;

    e = ngx_exa_table_find(p->in, key, len);

    if (e == NULL) {
        return 1;
    }

    memcpy(&other, e, sizeof(uint32_t));

    if ((domains & NGX_EXA_TABLE_BARE) && !(other & NGX_EXA_TABLE_BARE)) {
        return 1;
    }

    for (i = 0; i < p->from->ntags && i < NGX_EXA_TAGS_MAX; i++) {
        if (!(domains & ((uint32_t) 1 << i))) {
            continue;
        }

        tag = ngx_exa_table_tag(p->in, p->from->tags[i] + 1,
                                p->from->tags[i][0]);

        if (tag < 0 || !(other & ((uint32_t) 1 << tag))) {
            return 1;
        }
    }

    return 0;
}


/* same names with the same domains, whatever the order they came in */

int
ngx_exa_table_equal(const ngx_exa_table_t *a, const ngx_exa_table_t *b)
{
    ngx_exa_table_pair_t  p;

    if (a == NULL || b == NULL) {
        return a == b;
    }

    if (a->nelts != b->nelts || a->checksum != b->checksum
        || a->ntags != b->ntags)
    {
        return 0;
    }

    p.from = a;
    p.in = b;

    if (ngx_exa_table_walk(a, ngx_exa_table_contains, &p) != 0) {
        return 0;
    }

    p.from = b;
    p.in = a;

    return ngx_exa_table_walk(b, ngx_exa_table_contains, &p) == 0;
}
