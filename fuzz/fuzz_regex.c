/*
 * libFuzzer harness for the literal prefilter of regular expression rules:
 * the literals of any pattern, and the check before the call
 * (ngx_exa_literals_refuse()) answers as a reference written out here and
 * refuses only subjects that ngx_exa_literals_may_match() refuses.
 * Input: a flags byte (bit 0: caseless), the pattern, a newline, the
 * subject.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_exa_regex.h"


static unsigned char
fold(const ngx_exa_literals_t *l, unsigned char c)
{
    return (l->caseless && c >= 'A' && c <= 'Z') ? (c | 0x20) : c;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   caseless, ref;
    size_t                plen, slen;
    unsigned char        *pat, *subj;
    const uint8_t        *nl;
    ngx_exa_literals_t    lit;

    if (size < 1) {
        return 0;
    }

    caseless = data[0] & 1;
    data++;
    size--;

    nl = memchr(data, '\n', size);
    plen = nl ? (size_t) (nl - data) : size;
    slen = nl ? size - plen - 1 : 0;

    /* exact-size copies, so that ASan sees any read past the end */
    pat = malloc(plen ? plen : 1);
    subj = malloc(slen ? slen : 1);

    if (pat == NULL || subj == NULL) {
        free(pat);
        free(subj);
        return 0;
    }

    memcpy(pat, data, plen);
    memcpy(subj, data + plen + (nl ? 1 : 0), slen);

    ngx_exa_regex_literals(pat, plen, caseless, &lit);

    if (lit.prefix_len > NGX_EXA_LITERAL_MAX
        || lit.suffix_len > NGX_EXA_LITERAL_MAX)
    {
        abort();
    }

    /* the reference: the length, then the first two bytes, folded */

    ref = lit.prefix_len
          && (slen < lit.prefix_len || fold(&lit, subj[0]) != lit.prefix[0]
              || (lit.prefix_len > 1 && fold(&lit, subj[1]) != lit.prefix[1]));

    if (ngx_exa_literals_refuse(&lit, subj, slen) != ref) {
        abort();
    }

    if (ref && ngx_exa_literals_may_match(&lit, subj, slen)) {
        abort();
    }

    free(pat);
    free(subj);

    return 0;
}
