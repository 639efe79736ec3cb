
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <stddef.h>

#include "ngx_exa_credential.h"


#define NGX_EXA_B64_BAD  0xff


static const unsigned char  ngx_exa_b64[256] = {
#define X NGX_EXA_B64_BAD
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, 62, X, X, X, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
    X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, X,
    X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X
#undef X
};


static const unsigned char  ngx_exa_b64url[256] = {
#define X NGX_EXA_B64_BAD
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, 62, X, X,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
    X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, 63,
    X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X
#undef X
};


/*
 * Strict base64 (RFC 4648): the standard alphabet with "=" padding to a
 * multiple of four, or, with url set, the URL alphabet without padding.
 * Non-zero bits in the last character, whitespace and misplaced padding
 * are errors.  dst must hold len / 4 * 3 + 3 bytes.  Returns the decoded
 * length, or (size_t) -1 on error.
 */

size_t
ngx_exa_base64_decode(unsigned char *dst, const unsigned char *src,
    size_t len, int url)
{
    size_t                i, n, pad;
    uint32_t              v0, v1, v2, v3;
    const unsigned char  *t;

    pad = 0;
    t = url ? ngx_exa_b64url : ngx_exa_b64;

    if (url) {
        if (len % 4 == 1) {
            return (size_t) -1;
        }

    } else {
        if (len % 4 != 0) {
            return (size_t) -1;
        }

        if (len && src[len - 1] == '=') {
            pad++;

            if (src[len - 2] == '=') {
                pad++;
            }
        }

        len -= pad;
    }

    n = 0;

    /* four characters, three bytes at a time; a bad character has 0x80 */

    for (i = 0; i + 4 <= len; i += 4) {
        v0 = t[src[i]];
        v1 = t[src[i + 1]];
        v2 = t[src[i + 2]];
        v3 = t[src[i + 3]];

        if ((v0 | v1 | v2 | v3) & 0x80) {
            return (size_t) -1;
        }

        dst[n++] = (unsigned char) (v0 << 2 | v1 >> 4);
        dst[n++] = (unsigned char) (v1 << 4 | v2 >> 2);
        dst[n++] = (unsigned char) (v2 << 6 | v3);
    }

    switch (len - i) {

    case 0:
        break;

    case 2:
        v0 = t[src[i]];
        v1 = t[src[i + 1]];

        /* no bad character, and no bits left over in the last one */

        if (((v0 | v1) & 0x80) || (v1 & 0x0f)) {
            return (size_t) -1;
        }

        dst[n++] = (unsigned char) (v0 << 2 | v1 >> 4);
        break;

    case 3:
        v0 = t[src[i]];
        v1 = t[src[i + 1]];
        v2 = t[src[i + 2]];

        if (((v0 | v1 | v2) & 0x80) || (v2 & 0x03)) {
            return (size_t) -1;
        }

        dst[n++] = (unsigned char) (v0 << 2 | v1 >> 4);
        dst[n++] = (unsigned char) (v1 << 4 | v2 >> 2);
        break;

    default:
        return (size_t) -1;
    }

    return n;
}
