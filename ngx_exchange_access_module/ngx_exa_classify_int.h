
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_EXA_CLASSIFY_INT_H_INCLUDED_
#define _NGX_EXA_CLASSIFY_INT_H_INCLUDED_


/*
 * Inside the classifier: how IIS reads a path (ngx_exa_path.c), how
 * ASP.NET reads names, parameters and cookies and how Exchange removes an
 * explicit logon address (ngx_exa_aspnet.c), for ngx_exa_classify.c and
 * the tests.  No nginx dependency.
 */


#include <stdint.h>

#include "ngx_exa_classify.h"
#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


#define NGX_EXA_SEGMENT_MAX     40
#define NGX_EXA_EMAILS_MAX      8       /* values of one name */
#define NGX_EXA_ADDRS_MAX       (NGX_EXA_EMAILS_MAX + 1)   /* and joined */
#define NGX_EXA_NO_VDIR         ((size_t) -1)


/* what decoding and normalising a path ran into */
#define NGX_EXA_T_ENC_SEP       0x01    /* %2f or %5c */
#define NGX_EXA_T_ENC_DOT       0x02    /* %2e */
#define NGX_EXA_T_DOUBLE        0x04    /* "%" + 2 hex left after decoding */
#define NGX_EXA_T_BAD           0x08    /* "%" not followed by 2 hex */
#define NGX_EXA_T_NUL           0x10    /* %00 */
#define NGX_EXA_T_BACKSLASH     0x20


typedef struct {
    const char            *name;
    size_t                 len;
    int                    protocol;
} ngx_exa_vdir_t;


typedef struct {
    const unsigned char   *data;
    size_t                 len;
} ngx_exa_span_t;


/* the room the removal of an address works in */

typedef struct {
    unsigned char         *pat;         /* the longest address + 1 */
    unsigned char         *out;         /* the path and query */
    uint32_t              *fail;        /* the longest address + 1 */
    uint32_t              *state;       /* the path and query */
} ngx_exa_scratch_t;


/* the explicit logon addresses a request carries */

typedef struct {
    ngx_exa_span_t         emails[NGX_EXA_ADDRS_MAX];
    ngx_exa_span_t         logons[NGX_EXA_ADDRS_MAX];
    size_t                 nemails;
    size_t                 nlogons;
    unsigned char         *buf;
} ngx_exa_addrs_t;


#define ngx_exa_vd(s, p)  { s, sizeof(s) - 1, p }

/* an ASCII letter in lower case (a macro: it runs once a byte) */
#define ngx_exa_fold(c)  (unsigned char)                                     \
    (((c) >= 'A' && (c) <= 'Z') ? ((c) | 0x20) : (c))


/* ngx_exa_path.c */
size_t ngx_exa_decode(unsigned char *dst, const unsigned char *src,
    size_t len, int form, unsigned *tricks);
size_t ngx_exa_normalise(unsigned char *p, size_t len, unsigned *tricks);
int ngx_exa_vdir(const unsigned char *s, size_t len, unsigned *folded);
const unsigned char *ngx_exa_segment(const unsigned char *p,
    const unsigned char *last, size_t *len);
int ngx_exa_caseeq(const unsigned char *p, const char *s, size_t len);
const unsigned char *ngx_exa_casefind(const unsigned char *h, size_t hlen,
    const unsigned char *n, size_t nlen);

/* the longest path ngx_exa_path_short() looks at */
#define NGX_EXA_SHORT_PATH  32

int ngx_exa_path_plain(const unsigned char *p, size_t len, size_t *first);
int ngx_exa_path_short(const unsigned char *p, size_t len, size_t *first);
int ngx_exa_path_scan(const unsigned char *p, size_t len, size_t *first);
int ngx_exa_vdir_plain(const unsigned char *s, size_t len);

/* ngx_exa_aspnet.c */
int ngx_exa_plain_address(const unsigned char *p, size_t len);
int ngx_exa_params(const ngx_exa_request_t *req, ngx_exa_addrs_t *a,
    unsigned char *names, unsigned *routing);
void ngx_exa_join(ngx_exa_span_t *list, size_t *n, unsigned char **buf);
int ngx_exa_reroutes(const unsigned char *d, size_t dlen,
    const ngx_exa_span_t *a, int proto, ngx_exa_scratch_t *w, int *target);
int ngx_exa_query_plain(const unsigned char *p, size_t len);


NGX_EXA_HIDDEN_END


#endif /* _NGX_EXA_CLASSIFY_INT_H_INCLUDED_ */
