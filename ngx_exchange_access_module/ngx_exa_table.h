
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
 *
 * A key is "name" (a sAMAccountName of the first domain, or a whole UPN
 * "user@suffix") or "netbios\name" (a sAMAccountName of that NetBIOS
 * domain, lower case).  The table holds each name once, with the set of
 * domains it was listed for: a bit for each of at most 31 NetBIOS names
 * (the tags, in the header) and one for "bare".
 */


#include <stddef.h>
#include <stdint.h>
#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


#define NGX_EXA_TABLE_MAGIC    0x45584133   /* "EXA3" */
#define NGX_EXA_KEY_MAX        256
#define NGX_EXA_TAGS_MAX       31
#define NGX_EXA_TAG_MAX        15           /* a NetBIOS name */
#define NGX_EXA_TABLE_BARE     0x80000000u


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
    uint32_t               ntags;
    /* the NetBIOS names of tagged keys: a length byte, then the name */
    unsigned char          tags[NGX_EXA_TAGS_MAX][NGX_EXA_TAG_MAX + 1];
    /* uint32_t slots[2 * (mask + 1)]: hash, offset (0 = empty) */
    /* entries: uint32_t domains, uint16_t len, bytes, padded to even */
} ngx_exa_table_t;


#define NGX_EXA_TABLE_AGAIN    2


/* a table being built, a part at a time (ngx_exa_table_build_step()) */

typedef struct {
    ngx_exa_table_t       *t;           /* once the keys are checked */
    void                  *buf;
    size_t                 size;
    const ngx_exa_str_t   *keys;
    size_t                 nkeys;
    size_t                 next;        /* the key or slot to do next */
    size_t                 keybytes;
    size_t                 off;         /* where the next entry goes */
    int                    phase;
} ngx_exa_table_builder_t;


/* the NetBIOS names of keys being counted, a part at a time */

typedef struct {
    const ngx_exa_str_t   *keys;
    size_t                 nkeys;
    size_t                 next;        /* the key to look at next */
    size_t                 n;           /* names seen so far */
    ngx_exa_str_t          seen[NGX_EXA_TAGS_MAX + 1];
} ngx_exa_table_tagger_t;


/* two tables being compared, a part at a time */

typedef struct {
    const ngx_exa_table_t *a;
    const ngx_exa_table_t *b;
    uint32_t               next;        /* the slot of a to compare next */
    int                    result;      /* 1, 0, or NGX_EXA_TABLE_AGAIN */
    uint32_t               map[NGX_EXA_TAGS_MAX];  /* a's tag bits as b's */
} ngx_exa_table_cmp_t;


uint32_t ngx_exa_hash(const unsigned char *p, size_t len);
size_t ngx_exa_table_size(size_t nkeys, size_t keybytes);
size_t ngx_exa_table_tags(const ngx_exa_str_t *keys, size_t nkeys);
ngx_exa_table_t *ngx_exa_table_build(void *buf, size_t size,
    const ngx_exa_str_t *keys, size_t nkeys);
int ngx_exa_table_lookup(const ngx_exa_table_t *t, const unsigned char *key,
    size_t len, const unsigned char *tag, size_t taglen, int first);
int ngx_exa_table_equal(const ngx_exa_table_t *a, const ngx_exa_table_t *b);

void ngx_exa_table_build_start(ngx_exa_table_builder_t *b, void *buf,
    size_t size, const ngx_exa_str_t *keys, size_t nkeys);
int ngx_exa_table_build_step(ngx_exa_table_builder_t *b, size_t work);
void ngx_exa_table_equal_start(ngx_exa_table_cmp_t *cmp,
    const ngx_exa_table_t *a, const ngx_exa_table_t *b);
int ngx_exa_table_equal_step(ngx_exa_table_cmp_t *cmp, size_t work);
void ngx_exa_table_tags_start(ngx_exa_table_tagger_t *tg,
    const ngx_exa_str_t *keys, size_t nkeys);
int ngx_exa_table_tags_step(ngx_exa_table_tagger_t *tg, size_t work);

typedef int (*ngx_exa_table_walk_pt)(void *data, const unsigned char *key,
    size_t len, uint32_t domains);
int ngx_exa_table_walk(const ngx_exa_table_t *t, ngx_exa_table_walk_pt walk,
    void *data);


NGX_EXA_HIDDEN_END


#endif /* _NGX_EXA_TABLE_H_INCLUDED_ */
