/*
 * The reference a fast path of the NTLM parser is compared with, for the
 * unit tests (t/unit/test_ntlm.c) and the harness (fuzz_ntlm.c).
 */

#ifndef _UTF16_H_INCLUDED_
#define _UTF16_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>

#include "ngx_exa_credential.h"


/*
 * UTF-16LE to UTF-8 one character at a time, the reference for a name
 * of an AUTHENTICATE_MESSAGE: -1 for an odd length, a lone surrogate, a
 * NUL, or more than NGX_EXA_NAME_MAX bytes (counted as 4 a character).
 */

static inline int
ref_utf16(const unsigned char *p, size_t slen, unsigned char *out,
    size_t *outlen)
{
    size_t    i, n;
    uint32_t  c, c2;

    if (slen & 1) {
        return -1;
    }

    n = 0;

    for (i = 0; i < slen; i += 2) {
        c = p[i] | (uint32_t) p[i + 1] << 8;

        if (c >= 0xd800 && c <= 0xdbff) {
            if (i + 2 >= slen) {
                return -1;
            }

            c2 = p[i + 2] | (uint32_t) p[i + 3] << 8;

            if (c2 < 0xdc00 || c2 > 0xdfff) {
                return -1;
            }

            c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
            i += 2;

        } else if ((c >= 0xdc00 && c <= 0xdfff) || c == 0) {
            return -1;
        }

        if (n + 4 > NGX_EXA_NAME_MAX) {
            return -1;
        }

        if (c < 0x80) {
            out[n++] = (unsigned char) c;

        } else if (c < 0x800) {
            out[n++] = (unsigned char) (0xc0 | (c >> 6));
            out[n++] = (unsigned char) (0x80 | (c & 0x3f));

        } else if (c < 0x10000) {
            out[n++] = (unsigned char) (0xe0 | (c >> 12));
            out[n++] = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
            out[n++] = (unsigned char) (0x80 | (c & 0x3f));

        } else {
            out[n++] = (unsigned char) (0xf0 | (c >> 18));
            out[n++] = (unsigned char) (0x80 | ((c >> 12) & 0x3f));
            out[n++] = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
            out[n++] = (unsigned char) (0x80 | (c & 0x3f));
        }
    }

    *outlen = n;

    return 0;
}

#endif
