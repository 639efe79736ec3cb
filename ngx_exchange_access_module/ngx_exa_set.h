
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_EXA_SET_H_INCLUDED_
#define _NGX_EXA_SET_H_INCLUDED_


/*
 * Working memory with a limit: an arena freed at once, growing arrays,
 * and sets of byte strings.  All of it is counted in one ngx_exa_mem_t, so
 * that whatever a directory makes a refresh keep stays under one bound.
 * No nginx dependency.
 */


#include <stddef.h>
#include <stdint.h>
#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


typedef struct {
    size_t                 used;        /* bytes taken, all told */
    size_t                 peak;
    size_t                 max;         /* 0: no limit */
    int                    over;        /* a request went over max */
} ngx_exa_mem_t;


typedef struct ngx_exa_block_s  ngx_exa_block_t;

typedef struct {
    ngx_exa_block_t       *blocks;
    ngx_exa_mem_t         *mem;
} ngx_exa_arena_t;


typedef struct {
    uint32_t               hash;
    uint32_t               len;
    const unsigned char   *data;
} ngx_exa_set_slot_t;


/*
 * A set grows by doubling without stopping: the slots it had are moved
 * into the new ones a few at a time, at each addition, and looked in
 * until all are moved.  A large set's next slots are taken before they
 * are needed and zeroed a few at each addition too.
 */

typedef struct {
    ngx_exa_set_slot_t    *slots;
    size_t                 nslots;
    size_t                 nelts;
    ngx_exa_arena_t       *arena;       /* holds the strings */
    ngx_exa_set_slot_t    *old;         /* the slots before the last growth */
    size_t                 nold;
    size_t                 moved;       /* old slots moved so far */
    ngx_exa_set_slot_t    *next;        /* the next growth's, being zeroed */
    size_t                 nnext;
    size_t                 zeroed;      /* of them, zeroed so far */
} ngx_exa_set_t;


void *ngx_exa_arena_alloc(ngx_exa_arena_t *a, size_t size);
void ngx_exa_arena_free(ngx_exa_arena_t *a);
void ngx_exa_arena_free_block(ngx_exa_arena_t *a);
int ngx_exa_mem_grow(ngx_exa_mem_t *m, void **p, size_t *nalloc, size_t n,
    size_t size);
void ngx_exa_mem_free(ngx_exa_mem_t *m, void *p, size_t nalloc,
    size_t size);

int ngx_exa_set_add(ngx_exa_set_t *set, const unsigned char *s, size_t len);
int ngx_exa_set_put(ngx_exa_set_t *set, const unsigned char *s, size_t len,
    size_t head, const unsigned char **data);
int ngx_exa_set_has(const ngx_exa_set_t *set, const unsigned char *s,
    size_t len);
const unsigned char *ngx_exa_set_get(const ngx_exa_set_t *set,
    const unsigned char *s, size_t len);
void ngx_exa_set_free(ngx_exa_set_t *set);


NGX_EXA_HIDDEN_END


#endif /* _NGX_EXA_SET_H_INCLUDED_ */
