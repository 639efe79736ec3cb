
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <string.h>

#include "ngx_exa_table.h"


#define ngx_exa_slots(t)  ((uint32_t *) ((unsigned char *) (t)               \
                                         + sizeof(ngx_exa_table_t)))


static inline uint32_t ngx_exa_hash_inline(const unsigned char *p,
    size_t len);
static inline int ngx_exa_table_same(const unsigned char *a,
    const unsigned char *b, size_t len);
static uint32_t ngx_exa_table_nslots(size_t nkeys);
static int ngx_exa_table_split(const ngx_exa_str_t *key, ngx_exa_str_t *tag,
    ngx_exa_str_t *name);
static int ngx_exa_table_tag(const ngx_exa_table_t *t,
    const unsigned char *tag, size_t len);
static inline const unsigned char *ngx_exa_table_find(
    const ngx_exa_table_t *t, const unsigned char *key, size_t len);
static uint32_t ngx_exa_table_pair(uint32_t h, size_t len,
    const ngx_exa_str_t *tag);


/*
 * Eight bytes at a time, mixed by multiplication: the keys of a table come
 * from the directory, not from clients, and a table lives in one host's
 * memory, so the byte order it reads words in does not matter.  The last
 * eight to sixteen bytes are two words that may overlap, and a key of
 * fewer than eight two half words or three of its bytes: short keys, the
 * names most lists hold, cost two multiplications and no loop; the
 * length is mixed in first, so that the overlap tells nothing.  Inline
 * here, for ngx_exa_table_lookup(); ngx_exa_hash() for the other files.
 */

static inline uint32_t
ngx_exa_hash_inline(const unsigned char *p, size_t len)
{
    uint32_t  x, y;
    uint64_t  h, a, b;

    h = 0x9e3779b97f4a7c15ULL ^ len;

    for ( /* void */ ; len > 16; p += 8, len -= 8) {
        memcpy(&a, p, 8);
        h = (h ^ a) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }

    if (len >= 8) {
        memcpy(&a, p, 8);
        memcpy(&b, p + len - 8, 8);

    } else if (len >= 4) {
        memcpy(&x, p, 4);
        memcpy(&y, p + len - 4, 4);
        a = x;
        b = y;

    } else if (len) {
        a = (uint64_t) p[0] | (uint64_t) p[len / 2] << 8
            | (uint64_t) p[len - 1] << 16;
        b = 0;

    } else {
        a = 0;
        b = 0;
    }

    h = (h ^ a) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
    h = (h ^ b) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdULL;

    return (uint32_t) (h >> 32);
}


uint32_t
ngx_exa_hash(const unsigned char *p, size_t len)
{
    return ngx_exa_hash_inline(p, len);
}


/*
 * Whether two keys of the same length are the same, without a call: eight
 * to sixteen bytes as two words that may overlap
 */

static inline int
ngx_exa_table_same(const unsigned char *a, const unsigned char *b, size_t len)
{
    uint64_t  x, y, u, v;

    for ( /* void */ ; len > 16; a += 8, b += 8, len -= 8) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);

        if (x != y) {
            return 0;
        }
    }

    if (len >= 8) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        memcpy(&u, a + len - 8, 8);
        memcpy(&v, b + len - 8, 8);

        return ((x ^ y) | (u ^ v)) == 0;
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
    ngx_exa_table_tagger_t  tg;

    ngx_exa_table_tags_start(&tg, keys, nkeys);

    while (ngx_exa_table_tags_step(&tg, (size_t) -1) == NGX_EXA_TABLE_AGAIN) {
        /* void */
    }

    return tg.n;
}


/*
 * The same a part at a time: each _step() looks at up to work keys, and
 * returns NGX_EXA_TABLE_AGAIN until the count in tg->n is complete (0).
 * The keys must stay as they are until then.
 */

void
ngx_exa_table_tags_start(ngx_exa_table_tagger_t *tg, const ngx_exa_str_t *keys,
    size_t nkeys)
{
    tg->keys = keys;
    tg->nkeys = nkeys;
    tg->next = 0;
    tg->n = 0;
}


int
ngx_exa_table_tags_step(ngx_exa_table_tagger_t *tg, size_t work)
{
    size_t          j;
    ngx_exa_str_t   tag, name;

    for ( /* void */ ;
         work && tg->next < tg->nkeys && tg->n <= NGX_EXA_TAGS_MAX;
         work--, tg->next++)
    {
        if (ngx_exa_table_split(&tg->keys[tg->next], &tag, &name) != 0
            || tag.len == 0)
        {
            continue;
        }

        for (j = 0; j < tg->n; j++) {
            if (tg->seen[j].len == tag.len
                && memcmp(tg->seen[j].data, tag.data, tag.len) == 0)
            {
                break;
            }
        }

        if (j == tg->n) {
            tg->seen[tg->n++] = tag;
        }
    }

    if (tg->next < tg->nkeys && tg->n <= NGX_EXA_TAGS_MAX) {
        return NGX_EXA_TABLE_AGAIN;
    }

    return 0;
}


/* what one (name, domain) pair adds to the checksum */

static uint32_t
ngx_exa_table_pair(uint32_t h, size_t len, const ngx_exa_str_t *tag)
{
    return h * 2654435761u + (uint32_t) len
           + (tag->len ? ngx_exa_hash_inline(tag->data, tag->len) * 40503u
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
    int                      rc;
    ngx_exa_table_builder_t  b;

    ngx_exa_table_build_start(&b, buf, size, keys, nkeys);

    do {
        rc = ngx_exa_table_build_step(&b, (size_t) -1);
    } while (rc == NGX_EXA_TABLE_AGAIN);

    return rc == 0 ? b.t : NULL;
}


/*
 * The same, a part at a time, so that a caller on an event loop can build
 * a table of millions of names between other work: each call of _step()
 * does at most "work" units (a key checked or placed, or 16 slots
 * cleared), and returns NGX_EXA_TABLE_AGAIN until the table is built (0)
 * or refused (-1, for the reasons above).  Nothing but the builder and
 * buf is kept between calls; the keys must stay as they are.
 */

#define NGX_EXA_TB_CHECK   0
#define NGX_EXA_TB_CLEAR   1
#define NGX_EXA_TB_PLACE   2
#define NGX_EXA_TB_BUILT   3
#define NGX_EXA_TB_FAILED  4

#define NGX_EXA_TB_CLEAR_UNIT  16          /* slots cleared per unit */


void
ngx_exa_table_build_start(ngx_exa_table_builder_t *b, void *buf, size_t size,
    const ngx_exa_str_t *keys, size_t nkeys)
{
    memset(b, 0, sizeof(ngx_exa_table_builder_t));

    b->buf = buf;
    b->size = size;
    b->keys = keys;
    b->nkeys = nkeys;
    b->phase = NGX_EXA_TB_CHECK;
}


/* every key is a name, and all of them fit in buf */

static int
ngx_exa_table_build_check(ngx_exa_table_builder_t *b, size_t work)
{
    size_t            need;
    uint32_t          nslots;
    ngx_exa_str_t     tname, name;
    ngx_exa_table_t  *t;

    for ( /* void */ ; work && b->next < b->nkeys; work--, b->next++) {
        if (ngx_exa_table_split(&b->keys[b->next], &tname, &name) != 0) {
            return -1;
        }

        b->keybytes += b->keys[b->next].len;
    }

    if (b->next < b->nkeys) {
        return NGX_EXA_TABLE_AGAIN;
    }

    need = ngx_exa_table_size(b->nkeys, b->keybytes);

    if (need == 0 || need > b->size || need > UINT32_MAX) {
        return -1;
    }

    t = b->buf;
    nslots = ngx_exa_table_nslots(b->nkeys);

    memset(t, 0, sizeof(ngx_exa_table_t));

    t->magic = NGX_EXA_TABLE_MAGIC;
    t->mask = nslots - 1;

    b->t = t;
    b->off = sizeof(ngx_exa_table_t) + 2 * sizeof(uint32_t) * nslots;
    b->next = 0;
    b->phase = NGX_EXA_TB_CLEAR;

    return NGX_EXA_TABLE_AGAIN;
}


/* the slots, empty */

static int
ngx_exa_table_build_clear(ngx_exa_table_builder_t *b, size_t work)
{
    size_t     n, nslots;
    uint32_t  *slots;

    nslots = (size_t) b->t->mask + 1;
    slots = ngx_exa_slots(b->t);

    n = nslots - b->next;

    if (work < n / NGX_EXA_TB_CLEAR_UNIT + 1) {
        n = work * NGX_EXA_TB_CLEAR_UNIT;
    }

    memset(slots + 2 * b->next, 0, 2 * sizeof(uint32_t) * n);

    b->next += n;

    if (b->next < nslots) {
        return NGX_EXA_TABLE_AGAIN;
    }

    b->next = 0;
    b->phase = NGX_EXA_TB_PLACE;

    return NGX_EXA_TABLE_AGAIN;
}


/* the keys, each in its slot and entry */

static int
ngx_exa_table_build_place(ngx_exa_table_builder_t *b, size_t work)
{
    int               tag;
    size_t            off;
    uint16_t          klen, elen;
    uint32_t          h, j, *slots, bit, domains;
    unsigned char    *base, *e;
    ngx_exa_str_t     tname, name;
    ngx_exa_table_t  *t;

    t = b->t;
    base = (unsigned char *) t;
    slots = ngx_exa_slots(t);
    off = b->off;

    for ( /* void */ ; work && b->next < b->nkeys; work--, b->next++) {
        (void) ngx_exa_table_split(&b->keys[b->next], &tname, &name);

        bit = NGX_EXA_TABLE_BARE;

        if (tname.len) {
            tag = ngx_exa_table_tag(t, tname.data, tname.len);

            if (tag < 0) {
                if (t->ntags == NGX_EXA_TAGS_MAX) {
                    return -1;
                }

                tag = (int) t->ntags++;
                t->tags[tag][0] = (unsigned char) tname.len;
                memcpy(t->tags[tag] + 1, tname.data, tname.len);
            }

            bit = (uint32_t) 1 << tag;
        }

        h = ngx_exa_hash_inline(name.data, name.len);
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

    b->off = off;

    if (b->next < b->nkeys) {
        return NGX_EXA_TABLE_AGAIN;
    }

    t->size = (uint32_t) off;
    b->phase = NGX_EXA_TB_BUILT;

    return 0;
}


int
ngx_exa_table_build_step(ngx_exa_table_builder_t *b, size_t work)
{
    int  rc;

    if (work == 0) {
        work = 1;
    }

    switch (b->phase) {

    case NGX_EXA_TB_CHECK:
        rc = ngx_exa_table_build_check(b, work);
        break;

    case NGX_EXA_TB_CLEAR:
        rc = ngx_exa_table_build_clear(b, work);
        break;

    case NGX_EXA_TB_PLACE:
        rc = ngx_exa_table_build_place(b, work);
        break;

    case NGX_EXA_TB_BUILT:
        return 0;

    default:
        return -1;
    }

    if (rc == -1) {
        b->phase = NGX_EXA_TB_FAILED;
        b->t = NULL;
    }

    return rc;
}


/* the entry of a name, or NULL */

static inline const unsigned char *
ngx_exa_table_find(const ngx_exa_table_t *t, const unsigned char *key,
    size_t len)
{
    uint16_t              elen;
    uint32_t              h, j, n;
    const uint32_t       *slots;
    const unsigned char  *base, *e;

    base = (const unsigned char *) t;
    slots = (const uint32_t *) (base + sizeof(ngx_exa_table_t));

    h = ngx_exa_hash_inline(key, len);
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


/*
 * Whether two tables hold the same names with the same domains, whatever
 * the order they came in.  Names are unique in a table, so with as many
 * in both, it is enough that each name of a is in b with the same
 * domains: one walk of a.  _equal_step() compares "work" slots of a and
 * returns NGX_EXA_TABLE_AGAIN until it knows (1 equal, 0 not).
 */

int
ngx_exa_table_equal(const ngx_exa_table_t *a, const ngx_exa_table_t *b)
{
    int                  rc;
    ngx_exa_table_cmp_t  cmp;

    ngx_exa_table_equal_start(&cmp, a, b);

    do {
        rc = ngx_exa_table_equal_step(&cmp, (size_t) -1);
    } while (rc == NGX_EXA_TABLE_AGAIN);

    return rc;
}


void
ngx_exa_table_equal_start(ngx_exa_table_cmp_t *cmp, const ngx_exa_table_t *a,
    const ngx_exa_table_t *b)
{
    int       tag;
    uint32_t  i;

    memset(cmp, 0, sizeof(ngx_exa_table_cmp_t));

    cmp->a = a;
    cmp->b = b;

    if (a == NULL || b == NULL) {
        cmp->result = (a == b);
        return;
    }

    if (a->nelts != b->nelts || a->ntags != b->ntags
        || a->ntags > NGX_EXA_TAGS_MAX)
    {
        cmp->result = 0;
        return;
    }

    /* a's domain bits as b's; a domain b does not have maps to none */

    for (i = 0; i < a->ntags; i++) {
        tag = ngx_exa_table_tag(b, a->tags[i] + 1, a->tags[i][0]);
        cmp->map[i] = (tag < 0) ? 0 : (uint32_t) 1 << tag;
    }

    /* the keys' checksums tell most differences without a walk */

    cmp->result = (a->checksum == b->checksum) ? NGX_EXA_TABLE_AGAIN : 0;
}


int
ngx_exa_table_equal_step(ngx_exa_table_cmp_t *cmp, size_t work)
{
    uint16_t              elen;
    uint32_t              i, domains, want, other;
    const uint32_t       *slots;
    const unsigned char  *base, *e, *f;

    if (cmp->result != NGX_EXA_TABLE_AGAIN) {
        return cmp->result;
    }

    base = (const unsigned char *) cmp->a;
    slots = (const uint32_t *) (base + sizeof(ngx_exa_table_t));

    for ( /* void */ ; work && cmp->next <= cmp->a->mask;
         work--, cmp->next++)
    {
        if (slots[2 * cmp->next + 1] == 0) {
            continue;
        }

        e = base + slots[2 * cmp->next + 1];
        memcpy(&domains, e, sizeof(uint32_t));
        memcpy(&elen, e + sizeof(uint32_t), sizeof(uint16_t));

        f = ngx_exa_table_find(cmp->b, e + sizeof(uint32_t) + sizeof(uint16_t),
                               elen);
        if (f == NULL) {
            cmp->result = 0;
            return 0;
        }

        want = domains & NGX_EXA_TABLE_BARE;

        for (i = 0; i < cmp->a->ntags; i++) {
            if (domains & ((uint32_t) 1 << i)) {
                if (cmp->map[i] == 0) {
                    cmp->result = 0;
                    return 0;
                }

                want |= cmp->map[i];
            }
        }

        memcpy(&other, f, sizeof(uint32_t));

        if (other != want) {
            cmp->result = 0;
            return 0;
        }
    }

    if (cmp->next <= cmp->a->mask) {
        return NGX_EXA_TABLE_AGAIN;
    }

    cmp->result = 1;

    return 1;
}
