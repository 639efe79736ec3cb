
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <string.h>

#include "ngx_exa_table.h"


#define ngx_exa_slots(t)  ((uint32_t *) ((unsigned char *) (t)               \
                                         + sizeof(ngx_exa_table_t)))


static uint32_t ngx_exa_table_nslots(size_t nkeys);


/* FNV-1a, 32 bits: keys come from the directory, not from clients */

uint32_t
ngx_exa_hash(const unsigned char *p, size_t len)
{
    size_t    i;
    uint32_t  h;

    h = 2166136261u;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }

    return h;
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
           + 3 * nkeys + keybytes;   /* length and padding per entry */
}


/*
 * Builds the table in buf, which must hold ngx_exa_table_size() bytes for
 * the same keys.  Duplicate keys are stored once.  Returns NULL if a key
 * is empty or too long, or if buf is too small.
 */

ngx_exa_table_t *
ngx_exa_table_build(void *buf, size_t size, const ngx_exa_str_t *keys,
    size_t nkeys)
{
    size_t            i, keybytes, need, off;
    uint16_t          klen, elen;
    uint32_t          h, j, nslots, *slots;
    unsigned char    *base, *e;
    ngx_exa_table_t  *t;

    keybytes = 0;

    for (i = 0; i < nkeys; i++) {
        if (keys[i].len == 0 || keys[i].len > NGX_EXA_KEY_MAX) {
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
        h = ngx_exa_hash(keys[i].data, keys[i].len);
        j = h & t->mask;

        for ( ;; ) {
            if (slots[2 * j + 1] == 0) {
                break;
            }

            if (slots[2 * j] == h) {
                e = base + slots[2 * j + 1];
                memcpy(&elen, e, sizeof(uint16_t));

                if (elen == keys[i].len
                    && memcmp(e + sizeof(uint16_t), keys[i].data,
                              keys[i].len)
                       == 0)
                {
                    goto duplicate;
                }
            }

            j = (j + 1) & t->mask;
        }

        klen = (uint16_t) keys[i].len;
        memcpy(base + off, &klen, sizeof(uint16_t));
        memcpy(base + off + sizeof(uint16_t), keys[i].data, keys[i].len);

        slots[2 * j] = h;
        slots[2 * j + 1] = (uint32_t) off;

        off += sizeof(uint16_t) + keys[i].len;
        off += off & 1;

        t->nelts++;
        t->checksum += h * 2654435761u + (uint32_t) keys[i].len;

    duplicate:

        continue;
    }

    t->size = (uint32_t) off;

    return t;
}


int
ngx_exa_table_lookup(const ngx_exa_table_t *t, const unsigned char *key,
    size_t len)
{
    uint16_t              elen;
    uint32_t              h, j, n;
    const uint32_t       *slots;
    const unsigned char  *base, *e;

    if (t == NULL || t->magic != NGX_EXA_TABLE_MAGIC || len == 0
        || len > NGX_EXA_KEY_MAX)
    {
        return 0;
    }

    base = (const unsigned char *) t;
    slots = (const uint32_t *) (base + sizeof(ngx_exa_table_t));

    h = ngx_exa_hash(key, len);
    j = h & t->mask;

    for (n = 0; n <= t->mask; n++) {

        if (slots[2 * j + 1] == 0) {
            return 0;
        }

        if (slots[2 * j] == h) {
            e = base + slots[2 * j + 1];
            memcpy(&elen, e, sizeof(uint16_t));

            if (elen == len && memcmp(e + sizeof(uint16_t), key, len) == 0) {
                return 1;
            }
        }

        j = (j + 1) & t->mask;
    }

    return 0;
}


int
ngx_exa_table_walk(const ngx_exa_table_t *t, ngx_exa_table_walk_pt walk,
    void *data)
{
    int                   rc;
    uint16_t              elen;
    uint32_t              j;
    const uint32_t       *slots;
    const unsigned char  *base, *e;

    base = (const unsigned char *) t;
    slots = (const uint32_t *) (base + sizeof(ngx_exa_table_t));

    for (j = 0; j <= t->mask; j++) {
        if (slots[2 * j + 1] == 0) {
            continue;
        }

        e = base + slots[2 * j + 1];
        memcpy(&elen, e, sizeof(uint16_t));

        rc = walk(data, e + sizeof(uint16_t), elen);
        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


static int
ngx_exa_table_contains(void *data, const unsigned char *key, size_t len)
{
    return ngx_exa_table_lookup(data, key, len) ? 0 : 1;
}


/* same set of keys, whatever the order they were inserted in */

int
ngx_exa_table_equal(const ngx_exa_table_t *a, const ngx_exa_table_t *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }

    if (a->nelts != b->nelts || a->checksum != b->checksum) {
        return 0;
    }

    return ngx_exa_table_walk(a, ngx_exa_table_contains, (void *) b) == 0;
}
