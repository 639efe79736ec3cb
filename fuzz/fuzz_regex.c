/*
 * libFuzzer harness for the literal prefilter of regular expression rules
 * and the index of a list of them (ngx_exa_rules_t): the literals of any
 * pattern; the rules the index lets a subject through to are those a
 * reference written out here lets through, in order; a rule it leaves
 * out is one that neither ngx_exa_literals_may_match() nor PCRE2 lets
 * through; and the first rule of the list that PCRE2 matches is the
 * first rule the index and the prefilter let through that PCRE2 matches.
 *
 * Input: a flags byte (bit i, 0 to 6: rule i, modulo 7, is caseless; bit
 * 7: the list is repeated until it has more than 128 rules), the patterns
 * separated by NUL bytes, a newline, the subject.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "ngx_exa_regex.h"


#define RULES_MAX     32              /* patterns */
#define LIST_MAX      (2 * 64 + 2)    /* rules, once repeated */


static unsigned char
fold(const ngx_exa_literals_t *l, unsigned char c)
{
    return (l->caseless && c >= 'A' && c <= 'Z') ? (c | 0x20) : c;
}


/* the reference: what the first two bytes let through */

static int
candidate(const ngx_exa_literals_t *l, const unsigned char *s, size_t len)
{
    if (l->prefix_len == 0) {
        return 1;
    }

    if (len < 1 || fold(l, s[0]) != l->prefix[0]) {
        return 0;
    }

    return l->prefix_len == 1 || (len >= 2 && fold(l, s[1]) == l->prefix[1]);
}


static pcre2_match_context  *mctx;


static void
check(pcre2_code **re, ngx_exa_literals_t *lit, size_t n,
    const unsigned char *subj, size_t slen, pcre2_match_data *md)
{
    int              rc, matched[LIST_MAX];
    size_t           i, next, prev, first, found;
    uint64_t         mem[2 * NGX_EXA_RULES_ROWS * 3];
    ngx_exa_rules_t  rs;

    if (ngx_exa_rules_size(n) > sizeof(mem)) {
        abort();
    }

    ngx_exa_rules_init(&rs, mem, n);

    for (i = 0; i < n; i++) {
        ngx_exa_rules_add(&rs, i, &lit[i]);
    }

    /* trying every rule; an error (a limit, a recursion loop) is none */

    first = NGX_EXA_RULES_END;

    for (i = 0; i < n; i++) {
        rc = pcre2_match(re[i], subj, slen, 0, 0, md, mctx);
        matched[i] = (rc >= 0);

        if (matched[i] && first == NGX_EXA_RULES_END) {
            first = i;
        }
    }

    prev = 0;
    found = NGX_EXA_RULES_END;

    for (next = ngx_exa_rules_next(&rs, subj, slen, 0);
         next != NGX_EXA_RULES_END;
         next = ngx_exa_rules_next(&rs, subj, slen, next + 1))
    {
        if (next >= n || next < prev || !candidate(&lit[next], subj, slen)) {
            abort();
        }

        for ( /* void */ ; prev < next; prev++) {
            if (candidate(&lit[prev], subj, slen) || matched[prev]
                || ngx_exa_literals_may_match(&lit[prev], subj, slen))
            {
                abort();
            }
        }

        prev = next + 1;

        if (found == NGX_EXA_RULES_END && matched[next]
            && ngx_exa_literals_may_match(&lit[next], subj, slen))
        {
            found = next;
        }
    }

    for ( /* void */ ; prev < n; prev++) {
        if (candidate(&lit[prev], subj, slen) || matched[prev]
            || ngx_exa_literals_may_match(&lit[prev], subj, slen))
        {
            abort();
        }
    }

    if (found != first) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   flags, err;
    size_t                plen, slen, i, k, n, np, len;
    PCRE2_SIZE            off;
    pcre2_code           *re[LIST_MAX];
    unsigned char        *pat, *subj, *p, *end, *z;
    const uint8_t        *nl;
    pcre2_match_data     *md;
    ngx_exa_literals_t    lit[LIST_MAX];

    if (size < 1) {
        return 0;
    }

    if (mctx == NULL) {
        mctx = pcre2_match_context_create(NULL);
        if (mctx == NULL) {
            abort();
        }

        pcre2_set_match_limit(mctx, 10000);
        pcre2_set_depth_limit(mctx, 1000);
    }

    flags = data[0];
    data++;
    size--;

    nl = memchr(data, '\n', size);
    plen = nl ? (size_t) (nl - data) : size;
    slen = nl ? size - plen - 1 : 0;

    /* exact-size copies, so that ASan sees any read past the end */
    pat = malloc(plen ? plen : 1);
    subj = malloc(slen ? slen : 1);
    md = pcre2_match_data_create(32, NULL);

    if (pat == NULL || subj == NULL || md == NULL) {
        abort();
    }

    memcpy(pat, data, plen);
    memcpy(subj, data + plen + (nl ? 1 : 0), slen);

    /* the patterns PCRE2 compiles, each with its literals */

    n = 0;
    end = pat + plen;

    for (p = pat; n < RULES_MAX; p = z + 1) {
        z = memchr(p, '\0', end - p);
        len = z ? (size_t) (z - p) : (size_t) (end - p);

        re[n] = pcre2_compile(p, len, (flags >> (n % 7)) & 1
                                      ? PCRE2_CASELESS : 0,
                              &err, &off, NULL);

        if (re[n] != NULL) {
            ngx_exa_regex_literals(p, len, (flags >> (n % 7)) & 1, &lit[n]);

            if (lit[n].prefix_len > NGX_EXA_LITERAL_MAX
                || lit[n].suffix_len > NGX_EXA_LITERAL_MAX)
            {
                abort();
            }

            n++;
        }

        if (z == NULL) {
            break;
        }
    }

    /* repeated: the first copy of a rule comes first */

    np = n;

    if ((flags & 0x80) && np) {
        for (i = 0; n <= 128; i++) {
            k = i % np;
            re[n] = re[k];
            lit[n] = lit[k];
            n++;
        }
    }

    if (n) {
        check(re, lit, n, subj, slen, md);
    }

    for (i = 0; i < np; i++) {
        pcre2_code_free(re[i]);
    }

    pcre2_match_data_free(md);
    free(pat);
    free(subj);

    return 0;
}
