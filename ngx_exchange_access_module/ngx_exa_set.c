
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#if (defined __linux__ && !defined _GNU_SOURCE)
#define _GNU_SOURCE                      /* mremap() */
#endif

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ngx_exa_set.h"
#include "ngx_exa_table.h"


#define NGX_EXA_BLOCK_SIZE     65536

/*
 * An array of this many bytes or more lives in a mapping of its own.  The
 * arrays of a large refresh grow to megabytes one element at a time:
 * realloc() would copy one within a single step of the event loop, onto
 * pages the process touches for the first time (each such page fault
 * costs microseconds, tens of them on a virtual machine).  A mapping
 * given back is kept as a spare, its pages still in place, for the next
 * refresh, which then grows its arrays into memory the last one warmed;
 * without a spare, a mapping grows by moving its pages (mremap() on
 * Linux).  A mapping starts with its length, before the array.
 */
#define NGX_EXA_MEM_MAP        65536
#define NGX_EXA_MEM_HEAD       16
#define NGX_EXA_MEM_SPARES     8

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS          MAP_ANON
#endif


typedef struct {
    void                  *map;
    size_t                 len;
} ngx_exa_mem_spare_t;


struct ngx_exa_block_s {
    ngx_exa_block_t       *next;
    size_t                 used;
    size_t                 size;
    /* bytes follow */
};


static int ngx_exa_mem_take(ngx_exa_mem_t *m, size_t n);
static void *ngx_exa_mem_resize(void *p, size_t old, size_t size);
static void *ngx_exa_mem_map(size_t size, int *dirty);
static void *ngx_exa_mem_spare(size_t size);
static void ngx_exa_mem_release(void *p, size_t size);


static ngx_exa_mem_spare_t  ngx_exa_mem_spares[NGX_EXA_MEM_SPARES];
static size_t               ngx_exa_mem_nspares;


/* counts n more bytes, unless that goes over the limit */

static int
ngx_exa_mem_take(ngx_exa_mem_t *m, size_t n)
{
    if (m->max && (n > m->max || m->used > m->max - n)) {
        m->over = 1;
        return -1;
    }

    m->used += n;

    if (m->used > m->peak) {
        m->peak = m->used;
    }

    return 0;
}


void *
ngx_exa_arena_alloc(ngx_exa_arena_t *a, size_t size)
{
    size_t            n;
    unsigned char    *p;
    ngx_exa_block_t  *b;

    size = (size + 7) & ~(size_t) 7;
    b = a->blocks;

    if (b == NULL || b->size - b->used < size) {
        n = size > NGX_EXA_BLOCK_SIZE / 4 ? size : NGX_EXA_BLOCK_SIZE;

        if (ngx_exa_mem_take(a->mem, sizeof(ngx_exa_block_t) + n) != 0) {
            return NULL;
        }

        b = malloc(sizeof(ngx_exa_block_t) + n);
        if (b == NULL) {
            a->mem->used -= sizeof(ngx_exa_block_t) + n;
            return NULL;
        }

        b->size = n;
        b->used = 0;

        if (n == size && a->blocks) {
            /* a big one goes behind the block being filled */
            b->next = a->blocks->next;
            a->blocks->next = b;

        } else {
            b->next = a->blocks;
            a->blocks = b;
        }
    }

    p = (unsigned char *) b + sizeof(ngx_exa_block_t) + b->used;
    b->used += size;

    return p;
}


void
ngx_exa_arena_free(ngx_exa_arena_t *a)
{
    while (a->blocks) {
        ngx_exa_arena_free_block(a);
    }
}


/* the block filled last goes */

void
ngx_exa_arena_free_block(ngx_exa_arena_t *a)
{
    ngx_exa_block_t  *b;

    b = a->blocks;

    if (b) {
        a->blocks = b->next;
        a->mem->used -= sizeof(ngx_exa_block_t) + b->size;
        free(b);
    }
}


/* makes the array *p hold at least n elements of size bytes: 0 or -1 */

int
ngx_exa_mem_grow(ngx_exa_mem_t *m, void **p, size_t *nalloc, size_t n,
    size_t size)
{
    void    *np;
    size_t   na;

    if (n <= *nalloc) {
        return 0;
    }

    na = *nalloc ? *nalloc : 16;

    while (na < n) {
        if (na > ((size_t) -1 / 2) / size) {
            return -1;
        }

        na *= 2;
    }

    if (ngx_exa_mem_take(m, (na - *nalloc) * size) != 0) {
        return -1;
    }

    np = ngx_exa_mem_resize(*p, *nalloc * size, na * size);
    if (np == NULL) {
        m->used -= (na - *nalloc) * size;
        return -1;
    }

    *p = np;
    *nalloc = na;

    return 0;
}


void
ngx_exa_mem_free(ngx_exa_mem_t *m, void *p, size_t nalloc, size_t size)
{
    m->used -= nalloc * size;
    ngx_exa_mem_release(p, nalloc * size);
}


/* the array p of old bytes made size bytes long (size > old), or NULL */

static void *
ngx_exa_mem_resize(void *p, size_t old, size_t size)
{
    int      dirty;
    void    *np;
    size_t   len;

    if (size < NGX_EXA_MEM_MAP) {
        return realloc(p, size);
    }

    np = NULL;

    if (old >= NGX_EXA_MEM_MAP) {
        len = *(size_t *) ((unsigned char *) p - NGX_EXA_MEM_HEAD);

        if (size <= len - NGX_EXA_MEM_HEAD) {
            return p;                  /* a spare had room for it already */
        }

        np = ngx_exa_mem_spare(size);

#ifdef MREMAP_MAYMOVE
        if (np == NULL) {
            np = mremap((unsigned char *) p - NGX_EXA_MEM_HEAD, len,
                        size + NGX_EXA_MEM_HEAD, MREMAP_MAYMOVE);
            if (np == MAP_FAILED) {
                return NULL;
            }

            *(size_t *) np = size + NGX_EXA_MEM_HEAD;

            return (unsigned char *) np + NGX_EXA_MEM_HEAD;
        }
#endif
    }

    if (np == NULL) {
        np = ngx_exa_mem_map(size, &dirty);
        if (np == NULL) {
            return NULL;
        }
    }

    if (old) {
        memcpy(np, p, old);
        ngx_exa_mem_release(p, old);
    }

    return np;
}


/*
 * A mapping for an array of size bytes: a spare (*dirty: its bytes are
 * what they were), or new zeroed pages.
 */

static void *
ngx_exa_mem_map(size_t size, int *dirty)
{
    unsigned char  *map;

    map = ngx_exa_mem_spare(size);

    if (map) {
        *dirty = 1;
        return map;
    }

    if (size > (size_t) -1 / 2) {
        return NULL;
    }

    map = mmap(NULL, size + NGX_EXA_MEM_HEAD, PROT_READ|PROT_WRITE,
               MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        return NULL;
    }

    *(size_t *) map = size + NGX_EXA_MEM_HEAD;
    *dirty = 0;

    return map + NGX_EXA_MEM_HEAD;
}


/* the smallest spare that holds size bytes, taken, or NULL */

static void *
ngx_exa_mem_spare(size_t size)
{
    size_t                i, best;
    unsigned char        *map;
    ngx_exa_mem_spare_t  *sp;

    sp = ngx_exa_mem_spares;
    best = NGX_EXA_MEM_SPARES;

    for (i = 0; i < ngx_exa_mem_nspares; i++) {
        if (sp[i].len - NGX_EXA_MEM_HEAD >= size
            && (best == NGX_EXA_MEM_SPARES || sp[i].len < sp[best].len))
        {
            best = i;
        }
    }

    if (best == NGX_EXA_MEM_SPARES) {
        return NULL;
    }

    map = sp[best].map;
    sp[best] = sp[--ngx_exa_mem_nspares];

    return map + NGX_EXA_MEM_HEAD;
}


/*
 * An array of size bytes made by ngx_exa_mem_resize() goes; a mapping is
 * kept as a spare, unless the spares are as many as are kept and larger.
 */

static void
ngx_exa_mem_release(void *p, size_t size)
{
    size_t                i, small;
    ngx_exa_mem_spare_t   m, *sp;

    if (p == NULL) {
        return;
    }

    if (size < NGX_EXA_MEM_MAP) {
        free(p);
        return;
    }

    m.map = (unsigned char *) p - NGX_EXA_MEM_HEAD;
    m.len = *(size_t *) m.map;

    sp = ngx_exa_mem_spares;

    if (ngx_exa_mem_nspares < NGX_EXA_MEM_SPARES) {
        sp[ngx_exa_mem_nspares++] = m;
        return;
    }

    small = 0;

    for (i = 1; i < NGX_EXA_MEM_SPARES; i++) {
        if (sp[i].len < sp[small].len) {
            small = i;
        }
    }

    if (sp[small].len < m.len) {
        (void) munmap(sp[small].map, sp[small].len);
        sp[small] = m;
        return;
    }

    (void) munmap(m.map, m.len);
}


/* old slots moved into the new ones at each addition */
#define NGX_EXA_SET_MOVE  16

/* slots of the next growth zeroed at each addition */
#define NGX_EXA_SET_ZERO  32


/* the slot of a string in slots, or NULL */

static const ngx_exa_set_slot_t *
ngx_exa_set_find(const ngx_exa_set_slot_t *slots, size_t nslots, uint32_t h,
    const unsigned char *s, size_t len)
{
    size_t  j;

    if (nslots == 0) {
        return NULL;
    }

    for (j = h & (nslots - 1); slots[j].data; j = (j + 1) & (nslots - 1)) {
        if (slots[j].hash == h && slots[j].len == len
            && memcmp(slots[j].data, s, len) == 0)
        {
            return &slots[j];
        }
    }

    return NULL;
}


/* up to n old slots into the new ones; the old go when all are moved */

static void
ngx_exa_set_move(ngx_exa_set_t *set, size_t n)
{
    size_t  h;

    for ( /* void */ ; n && set->moved < set->nold; n--, set->moved++) {
        if (set->old[set->moved].data == NULL) {
            continue;
        }

        h = set->old[set->moved].hash & (set->nslots - 1);

        while (set->slots[h].data) {
            h = (h + 1) & (set->nslots - 1);
        }

        set->slots[h] = set->old[set->moved];
    }

    if (set->old && set->moved == set->nold) {
        ngx_exa_mem_free(set->arena->mem, set->old, set->nold,
                         sizeof(ngx_exa_set_slot_t));
        set->old = NULL;
        set->nold = 0;
        set->moved = 0;
    }
}


/*
 * The next growth's slots of a large set, when a spare is there to be
 * used for them: taken when the set is three eighths full (the last
 * growth's move is over by then) and zeroed a few at each addition until
 * it is half full.  Zeroing a spare's megabytes at once, some of its
 * pages no longer in memory, would take milliseconds; new pages of a
 * mapping are zero already, and the growth maps them itself.
 */

static void
ngx_exa_set_prepare(ngx_exa_set_t *set)
{
    int     over;
    size_t  n, z;

    if (set->next == NULL) {
        n = set->nslots * 2;

        if (n > ((size_t) -1 / 2) / sizeof(ngx_exa_set_slot_t)) {
            return;
        }

        /* over the limit: the growth itself fails, when it comes */

        over = set->arena->mem->over;

        if (ngx_exa_mem_take(set->arena->mem, n * sizeof(ngx_exa_set_slot_t))
            != 0)
        {
            set->arena->mem->over = over;
            return;
        }

        set->next = ngx_exa_mem_spare(n * sizeof(ngx_exa_set_slot_t));

        if (set->next == NULL) {
            set->arena->mem->used -= n * sizeof(ngx_exa_set_slot_t);
            return;
        }

        set->nnext = n;
        set->zeroed = 0;
    }

    z = set->nnext - set->zeroed;
    z = z < NGX_EXA_SET_ZERO ? z : NGX_EXA_SET_ZERO;

    memset(set->next + set->zeroed, 0, z * sizeof(ngx_exa_set_slot_t));
    set->zeroed += z;
}


/*
 * Twice the slots, zeroed (a large set's are new pages of a mapping,
 * touched as the set fills, or a spare's, made ready by
 * ngx_exa_set_prepare()); the old ones are moved later.
 */

static int
ngx_exa_set_grow(ngx_exa_set_t *set)
{
    int                  dirty;
    size_t               n;
    ngx_exa_set_slot_t  *slots;

    /* the last growth's move is done long before the next one */

    ngx_exa_set_move(set, (size_t) -1);

    n = set->nslots ? set->nslots * 2 : 64;

    if (set->next) {
        slots = set->next;

        memset(slots + set->zeroed, 0,
               (n - set->zeroed) * sizeof(ngx_exa_set_slot_t));

        set->next = NULL;
        set->nnext = 0;
        set->zeroed = 0;

    } else {
        if (n > ((size_t) -1 / 2) / sizeof(ngx_exa_set_slot_t)
            || ngx_exa_mem_take(set->arena->mem,
                                n * sizeof(ngx_exa_set_slot_t))
               != 0)
        {
            return -1;
        }

        dirty = 1;

        if (n * sizeof(ngx_exa_set_slot_t) < NGX_EXA_MEM_MAP) {
            slots = malloc(n * sizeof(ngx_exa_set_slot_t));

        } else {
            slots = ngx_exa_mem_map(n * sizeof(ngx_exa_set_slot_t), &dirty);
        }

        if (slots != NULL && dirty) {
            memset(slots, 0, n * sizeof(ngx_exa_set_slot_t));
        }

        if (slots == NULL) {
            set->arena->mem->used -= n * sizeof(ngx_exa_set_slot_t);
            return -1;
        }
    }

    set->old = set->slots;
    set->nold = set->nslots;
    set->moved = 0;
    set->slots = slots;
    set->nslots = n;

    if (set->old == NULL) {
        set->nold = 0;
    }

    return 0;
}


/* adds a string: 1 if added, 0 if it was there, -1 without memory */

int
ngx_exa_set_add(ngx_exa_set_t *set, const unsigned char *s, size_t len)
{
    return ngx_exa_set_put(set, s, len, 0, NULL);
}


/*
 * The same, with head bytes (a multiple of 8, zeroed) kept in front of the
 * string for the caller's record of it; *data is where the string is kept,
 * added or found.
 */

int
ngx_exa_set_put(ngx_exa_set_t *set, const unsigned char *s, size_t len,
    size_t head, const unsigned char **data)
{
    size_t                     j;
    uint32_t                   h;
    unsigned char             *p;
    const ngx_exa_set_slot_t  *found;

    if (set->old) {
        ngx_exa_set_move(set, NGX_EXA_SET_MOVE);
    }

    if (set->nelts + 1 > set->nslots / 8 * 3
        && set->nelts + 1 <= set->nslots / 2
        && 2 * set->nslots * sizeof(ngx_exa_set_slot_t) >= NGX_EXA_MEM_MAP)
    {
        ngx_exa_set_prepare(set);
    }

    if (set->nelts + 1 > set->nslots / 2 && ngx_exa_set_grow(set) != 0) {
        return -1;
    }

    h = ngx_exa_hash(s, len);

    found = ngx_exa_set_find(set->slots, set->nslots, h, s, len);

    if (found == NULL && set->old) {
        found = ngx_exa_set_find(set->old, set->nold, h, s, len);
    }

    if (found) {
        if (data) {
            *data = found->data;
        }

        return 0;
    }

    p = ngx_exa_arena_alloc(set->arena, head + (len ? len : 1));
    if (p == NULL) {
        return -1;
    }

    memset(p, 0, head);
    p += head;
    memcpy(p, s, len);

    if (data) {
        *data = p;
    }

    for (j = h & (set->nslots - 1);
         set->slots[j].data;
         j = (j + 1) & (set->nslots - 1))
    {
        /* void */
    }

    set->slots[j].hash = h;
    set->slots[j].len = (uint32_t) len;
    set->slots[j].data = p;
    set->nelts++;

    return 1;
}


/* where a string of the set is kept, or NULL */

const unsigned char *
ngx_exa_set_get(const ngx_exa_set_t *set, const unsigned char *s, size_t len)
{
    uint32_t                   h;
    const ngx_exa_set_slot_t  *found;

    if (set->nslots == 0) {
        return NULL;
    }

    h = ngx_exa_hash(s, len);

    found = ngx_exa_set_find(set->slots, set->nslots, h, s, len);

    if (found == NULL && set->old) {
        found = ngx_exa_set_find(set->old, set->nold, h, s, len);
    }

    return found ? found->data : NULL;
}


int
ngx_exa_set_has(const ngx_exa_set_t *set, const unsigned char *s,
    size_t len)
{
    uint32_t  h;

    if (set->nslots == 0) {
        return 0;
    }

    h = ngx_exa_hash(s, len);

    return ngx_exa_set_find(set->slots, set->nslots, h, s, len) != NULL
           || (set->old
               && ngx_exa_set_find(set->old, set->nold, h, s, len) != NULL);
}


void
ngx_exa_set_free(ngx_exa_set_t *set)
{
    if (set->slots) {
        ngx_exa_mem_free(set->arena->mem, set->slots, set->nslots,
                         sizeof(ngx_exa_set_slot_t));
    }

    if (set->old) {
        ngx_exa_mem_free(set->arena->mem, set->old, set->nold,
                         sizeof(ngx_exa_set_slot_t));
    }

    if (set->next) {
        ngx_exa_mem_free(set->arena->mem, set->next, set->nnext,
                         sizeof(ngx_exa_set_slot_t));
    }

    set->next = NULL;
    set->nnext = 0;
    set->zeroed = 0;
    set->slots = NULL;
    set->nslots = 0;
    set->nelts = 0;
    set->old = NULL;
    set->nold = 0;
    set->moved = 0;
}
