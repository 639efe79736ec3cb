
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_EXA_STATE_H_INCLUDED_
#define _NGX_EXA_STATE_H_INCLUDED_


/*
 * The state file's format: the last good list of an allow-list, one key a
 * line, between a header and an end line that gives the count of keys and
 * a checksum of their lines:
 *
 *     # exchange_access_list "NAME" state, version 2
 *     alice
 *     example\bob
 *     %23carol
 *     # end, 3 names, checksum 5f1a09c3
 *
 * In a key, "%", bytes below 0x21, 0x7f, and a "#" at the start are
 * written %XX; every key the table can hold reads back as it was.  A file
 * without its end line is truncated; one whose count or checksum does not
 * agree is corrupted: neither is read at all.  No nginx dependency.
 */


#include <stddef.h>
#include <stdint.h>

#include "ngx_exa_table.h"
#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


#define NGX_EXA_STATE_VERSION    2

typedef enum {
    NGX_EXA_STATE_OK = 0,
    NGX_EXA_STATE_TRUNCATED,        /* no end line */
    NGX_EXA_STATE_NOT_STATE,        /* no header of a state file */
    NGX_EXA_STATE_VERSION_OLD,      /* version 1: no end line to check */
    NGX_EXA_STATE_BAD_LINE,         /* a bad escape, or not a key */
    NGX_EXA_STATE_COUNT,            /* the end line's count differs */
    NGX_EXA_STATE_CHECKSUM,         /* the checksum differs */
    NGX_EXA_STATE_AFTER_END         /* more after the end line */
} ngx_exa_state_rc_e;


/* called for every key read; non-zero stops the parse (BAD_LINE) */
typedef int (*ngx_exa_state_key_pt)(void *data, const unsigned char *key,
    size_t len);


size_t ngx_exa_state_size(size_t namelen, const ngx_exa_str_t *keys,
    size_t nkeys);
unsigned char *ngx_exa_state_write(unsigned char *p, const unsigned char *name,
    size_t namelen, const ngx_exa_str_t *keys, size_t nkeys);
int ngx_exa_state_parse(const unsigned char *p, size_t size,
    ngx_exa_state_key_pt key, void *data, size_t *line);
const char *ngx_exa_state_strerror(int rc);


NGX_EXA_HIDDEN_END


#endif /* _NGX_EXA_STATE_H_INCLUDED_ */
