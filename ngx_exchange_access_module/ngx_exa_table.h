
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_EXA_TABLE_H_INCLUDED_
#define _NGX_EXA_TABLE_H_INCLUDED_


/*
 * The allow-list table: a flat, position-independent open-addressing hash
 * of normalised names.  It is built in one buffer (in shared memory, or in
 * any memory for tests) and never changed afterwards, so readers need no
 * lock.  This file has no nginx dependency.
 */


#include <stddef.h>
#include <stdint.h>


#define NGX_EXA_TABLE_MAGIC    0x45584131   /* "EXA1" */
#define NGX_EXA_KEY_MAX        256


typedef struct {
    size_t                 len;
    const unsigned char   *data;
} ngx_exa_str_t;


typedef struct {
    uint32_t               magic;
    uint32_t               nelts;
    uint32_t               mask;        /* number of slots - 1 */
    uint32_t               size;        /* bytes, header included */
    uint32_t               checksum;    /* order-independent, of the keys */
    uint32_t               reserved;
    /* uint32_t slots[2 * (mask + 1)]: hash, offset (0 = empty) */
    /* entries: uint16_t len, bytes */
} ngx_exa_table_t;


uint32_t ngx_exa_hash(const unsigned char *p, size_t len);
size_t ngx_exa_table_size(size_t nkeys, size_t keybytes);
ngx_exa_table_t *ngx_exa_table_build(void *buf, size_t size,
    const ngx_exa_str_t *keys, size_t nkeys);
int ngx_exa_table_lookup(const ngx_exa_table_t *t, const unsigned char *key,
    size_t len);
int ngx_exa_table_equal(const ngx_exa_table_t *a, const ngx_exa_table_t *b);

typedef int (*ngx_exa_table_walk_pt)(void *data, const unsigned char *key,
    size_t len);
int ngx_exa_table_walk(const ngx_exa_table_t *t, ngx_exa_table_walk_pt walk,
    void *data);


#endif /* _NGX_EXA_TABLE_H_INCLUDED_ */
