
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_EXA_REGEX_H_INCLUDED_
#define _NGX_EXA_REGEX_H_INCLUDED_


/*
 * The literal text a regular expression requires at the start ("^/lb/")
 * or at the end ("@corp\.example$") of the subject.  A rule whose literals
 * are not there cannot match, so the regular expression is not run: rules
 * that do not match cost a comparison, not a pcre2_match().  No nginx
 * dependency.
 */


#include <stddef.h>
#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


#define NGX_EXA_LITERAL_MAX  64


typedef struct {
    size_t                 prefix_len;
    size_t                 suffix_len;
    unsigned char          prefix[NGX_EXA_LITERAL_MAX];
    unsigned char          suffix[NGX_EXA_LITERAL_MAX];
    unsigned char          fold[2];     /* 0x20: that prefix byte is a
                                           letter of a caseless rule */
    int                    caseless;
} ngx_exa_literals_t;


void ngx_exa_regex_literals(const unsigned char *pattern, size_t len,
    int caseless, ngx_exa_literals_t *lit);
int ngx_exa_literals_may_match(const ngx_exa_literals_t *lit,
    const unsigned char *s, size_t len);


/*
 * What ngx_exa_literals_may_match() finds first, without a call: a
 * subject shorter than the prefix, or one whose first two bytes are not
 * the prefix's, cannot match (1).  0 says nothing: the caller asks
 * ngx_exa_literals_may_match().  A letter of a caseless prefix (kept in
 * lower case) is met by a byte that is the letter once 0x20 is added to
 * it; any other prefix byte by itself.  Arguments are evaluated more than
 * once.
 */

#define ngx_exa_literals_refuse(lit, s, len)                                 \
    ((lit)->prefix_len                                                       \
     && ((len) < (lit)->prefix_len                                           \
         || ((s)[0] | (lit)->fold[0]) != (lit)->prefix[0]                    \
         || ((lit)->prefix_len > 1                                           \
             && ((s)[1] | (lit)->fold[1]) != (lit)->prefix[1])))


NGX_EXA_HIDDEN_END


#endif /* _NGX_EXA_REGEX_H_INCLUDED_ */
