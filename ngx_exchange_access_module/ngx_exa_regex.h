
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


#define NGX_EXA_LITERAL_MAX  64


typedef struct {
    size_t                 prefix_len;
    size_t                 suffix_len;
    unsigned char          prefix[NGX_EXA_LITERAL_MAX];
    unsigned char          suffix[NGX_EXA_LITERAL_MAX];
    int                    caseless;
} ngx_exa_literals_t;


void ngx_exa_regex_literals(const unsigned char *pattern, size_t len,
    int caseless, ngx_exa_literals_t *lit);
int ngx_exa_literals_may_match(const ngx_exa_literals_t *lit,
    const unsigned char *s, size_t len);


#endif /* _NGX_EXA_REGEX_H_INCLUDED_ */
