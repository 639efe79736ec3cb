
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <string.h>

#include "ngx_exa_credential.h"
#include "ngx_exa_name.h"


#define NGX_EXA_B64_BAD  0xff


static int ngx_exa_scheme_is(const unsigned char *p, size_t len,
    const char *name);
static int ngx_exa_basic(const unsigned char *tok, size_t len,
    unsigned char *work, size_t worklen, ngx_exa_cred_t *cred);
static int ngx_exa_unidentified(ngx_exa_cred_t *cred, const char *detail);


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
    size_t         i, n, pad;
    uint32_t       acc;
    unsigned char  c, v;

    pad = 0;

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
    acc = 0;

    for (i = 0; i < len; i++) {
        c = src[i];

        if (url) {
            if (c == '-') {
                c = '+';

            } else if (c == '_') {
                c = '/';

            } else if (c == '+' || c == '/') {
                return (size_t) -1;
            }
        }

        v = ngx_exa_b64[c];

        if (v == NGX_EXA_B64_BAD) {
            return (size_t) -1;
        }

        acc = (acc << 6) | v;

        if ((i & 3) == 3) {
            dst[n++] = (unsigned char) (acc >> 16);
            dst[n++] = (unsigned char) (acc >> 8);
            dst[n++] = (unsigned char) acc;
            acc = 0;
        }
    }

    switch (len & 3) {

    case 0:
        break;

    case 2:
        if (acc & 0x0f) {
            return (size_t) -1;
        }

        dst[n++] = (unsigned char) (acc >> 4);
        break;

    case 3:
        if (acc & 0x03) {
            return (size_t) -1;
        }

        dst[n++] = (unsigned char) (acc >> 10);
        dst[n++] = (unsigned char) (acc >> 2);
        break;

    default:
        return (size_t) -1;
    }

    return n;
}


static int
ngx_exa_scheme_is(const unsigned char *p, size_t len, const char *name)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (name[i] == '\0' || (p[i] | 0x20) != name[i]) {
            return 0;
        }
    }

    return name[i] == '\0';
}


static int
ngx_exa_unidentified(ngx_exa_cred_t *cred, const char *detail)
{
    cred->status = NGX_EXA_CRED_UNIDENTIFIED;
    cred->detail = detail;
    cred->domain_len = 0;
    cred->user_len = 0;

    return NGX_EXA_CRED_UNIDENTIFIED;
}


/*
 * Parses "scheme SP token".  work is scratch space of at least
 * len / 4 * 3 + 3 bytes.  Always fills cred and returns cred->status.
 */

int
ngx_exa_credential_parse(const unsigned char *value, size_t len,
    unsigned char *work, size_t worklen, ngx_exa_cred_t *cred)
{
    size_t                i, s;
    const unsigned char  *tok;

    memset(cred, 0, offsetof(ngx_exa_cred_t, domain));

    for (s = 0; s < len && value[s] != ' ' && value[s] != '\t'; s++) {
        /* void */
    }

    if (ngx_exa_scheme_is(value, s, "basic")) {
        cred->scheme = NGX_EXA_AUTH_BASIC;

    } else if (ngx_exa_scheme_is(value, s, "ntlm")) {
        cred->scheme = NGX_EXA_AUTH_NTLM;

    } else if (ngx_exa_scheme_is(value, s, "negotiate")) {
        cred->scheme = NGX_EXA_AUTH_NEGOTIATE;

    } else if (ngx_exa_scheme_is(value, s, "bearer")) {
        cred->scheme = NGX_EXA_AUTH_BEARER;

    } else {
        cred->scheme = NGX_EXA_AUTH_OTHER;
        return ngx_exa_unidentified(cred, "unknown scheme");
    }

    for (i = s; i < len && (value[i] == ' ' || value[i] == '\t'); i++) {
        /* void */
    }

    tok = value + i;
    len -= i;

    /* trailing blanks are not part of a token68 */

    while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t')) {
        len--;
    }

    if (len == 0) {
        if (cred->scheme == NGX_EXA_AUTH_BEARER) {
            /* an empty Bearer asks for the realm discovery challenge */
            cred->status = NGX_EXA_CRED_HANDSHAKE;
            cred->detail = "empty bearer";
            return NGX_EXA_CRED_HANDSHAKE;
        }

        return ngx_exa_unidentified(cred, "no token");
    }

    if (len > NGX_EXA_TOKEN_MAX) {
        return ngx_exa_unidentified(cred, "token too long");
    }

    if (worklen < len / 4 * 3 + 3) {
        return ngx_exa_unidentified(cred, "token too long");
    }

    switch (cred->scheme) {

    case NGX_EXA_AUTH_BASIC:
        return ngx_exa_basic(tok, len, work, worklen, cred);

    default:
        return ngx_exa_unidentified(cred, "scheme not decoded");
    }
}


/* RFC 7617: base64(user-id ":" password); the user-id has no colon */

static int
ngx_exa_basic(const unsigned char *tok, size_t len, unsigned char *work,
    size_t worklen, ngx_exa_cred_t *cred)
{
    size_t          n;
    unsigned char  *colon;

    (void) worklen;

    n = ngx_exa_base64_decode(work, tok, len, 0);

    if (n == (size_t) -1) {
        return ngx_exa_unidentified(cred, "bad base64");
    }

    colon = memchr(work, ':', n);

    if (colon == NULL) {
        return ngx_exa_unidentified(cred, "no colon in basic credential");
    }

    n = colon - work;

    if (n == 0) {
        return ngx_exa_unidentified(cred, "empty user name");
    }

    if (n > NGX_EXA_NAME_MAX) {
        return ngx_exa_unidentified(cred, "user name too long");
    }

    if (!ngx_exa_utf8_valid(work, n)) {
        return ngx_exa_unidentified(cred, "user name is not valid UTF-8");
    }

    memcpy(cred->user, work, n);
    cred->user_len = n;
    cred->status = NGX_EXA_CRED_USER;
    cred->detail = "basic";

    return NGX_EXA_CRED_USER;
}


const char *
ngx_exa_scheme_name(int scheme)
{
    switch (scheme) {
    case NGX_EXA_AUTH_NONE:
        return "none";
    case NGX_EXA_AUTH_BASIC:
        return "basic";
    case NGX_EXA_AUTH_NTLM:
        return "ntlm";
    case NGX_EXA_AUTH_NEGOTIATE:
        return "negotiate";
    case NGX_EXA_AUTH_BEARER:
        return "bearer";
    default:
        return "other";
    }
}
