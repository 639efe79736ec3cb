
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
#include <stdint.h>
#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


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


/*
 * Which rules of a list a subject may match, told by its first two bytes
 * before any rule is looked at: a row of bits for each value of the first
 * byte, and one for each value of the second (and a row for a subject too
 * short to have that byte), a bit a rule, in the order of the list.  A
 * rule's bit is set in a row when the byte is its prefix's byte there
 * (folded for a caseless rule), or its prefix does not reach that far.
 * The rules a subject may match are the bits set in both of its rows: a
 * superset of those ngx_exa_literals_may_match() lets through, so trying
 * these in order finds the first rule that matches, as trying every rule
 * would.
 */

#define NGX_EXA_RULES_ROWS  257         /* 256 bytes, and "no byte" */


typedef struct {
    uint64_t              *first;       /* NGX_EXA_RULES_ROWS rows */
    uint64_t              *second;
    size_t                 words;       /* of a row */
} ngx_exa_rules_t;


size_t ngx_exa_rules_size(size_t n);
void ngx_exa_rules_init(ngx_exa_rules_t *rules, void *mem, size_t n);
void ngx_exa_rules_add(ngx_exa_rules_t *rules, size_t i,
    const ngx_exa_literals_t *lit);


#if defined(__GNUC__)
#define ngx_exa_rules_lowest(bits)  ((size_t) __builtin_ctzll(bits))
#else
size_t ngx_exa_rules_lowest(uint64_t bits);
#endif


/*
 * The first rule from "from" on that a subject may match, or
 * NGX_EXA_RULES_END; in the header, so that a list of rules none of which
 * may match costs a few instructions and no call.
 */

#define NGX_EXA_RULES_END  ((size_t) -1)


static inline size_t
ngx_exa_rules_next(const ngx_exa_rules_t *rules, const unsigned char *s,
    size_t len, size_t from)
{
    size_t           w;
    uint64_t         bits;
    const uint64_t  *a, *b;

    w = from / 64;

    if (w >= rules->words) {
        return NGX_EXA_RULES_END;
    }

    a = rules->first + (len > 0 ? s[0] : 256) * rules->words;
    b = rules->second + (len > 1 ? s[1] : 256) * rules->words;

    bits = a[w] & b[w] & (~(uint64_t) 0 << (from % 64));

    while (bits == 0) {
        if (++w == rules->words) {
            return NGX_EXA_RULES_END;
        }

        bits = a[w] & b[w];
    }

    return w * 64 + ngx_exa_rules_lowest(bits);
}


NGX_EXA_HIDDEN_END


#endif /* _NGX_EXA_REGEX_H_INCLUDED_ */
