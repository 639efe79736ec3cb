
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
static int ngx_exa_ntlm_string(const unsigned char *msg, size_t len,
    size_t field, int unicode, unsigned char *out, size_t *outlen);
static int ngx_exa_der(const unsigned char **p, const unsigned char *last,
    unsigned *tag, const unsigned char **v, size_t *vlen);
static int ngx_exa_spnego_inner(const unsigned char *tok, size_t len,
    ngx_exa_cred_t *cred);


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
ngx_exa_credential_parse(const ngx_exa_cred_conf_t *conf,
    const unsigned char *value, size_t len, unsigned char *work,
    size_t worklen, ngx_exa_cred_t *cred)
{
    size_t                i, s, n;
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

    if (cred->scheme == NGX_EXA_AUTH_BASIC) {
        return ngx_exa_basic(tok, len, work, worklen, cred);
    }

    if (cred->scheme == NGX_EXA_AUTH_BEARER) {
        return ngx_exa_jwt_parse(conf, tok, len, work, worklen, cred);
    }

    n = ngx_exa_base64_decode(work, tok, len, 0);

    if (n == (size_t) -1) {
        return ngx_exa_unidentified(cred, "bad base64");
    }

    if (n == 0) {
        return ngx_exa_unidentified(cred, "empty token");
    }

    if (cred->scheme == NGX_EXA_AUTH_NTLM) {
        return ngx_exa_ntlm_parse(work, n, cred);
    }

    return ngx_exa_spnego_parse(work, n, cred);
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



/*
 * NTLM ([MS-NLMP] 2.2.1): a NEGOTIATE_MESSAGE names nobody yet; an
 * AUTHENTICATE_MESSAGE names the domain and the user.  Every security
 * buffer is checked against the message; MaxLen is ignored, as the
 * specification says a receiver must.
 */

#define NGX_EXA_NTLM_UNICODE    0x00000001
#define NGX_EXA_NTLM_ANONYMOUS  0x00000800

#define ngx_exa_le16(p)  ((uint32_t) (p)[0] | (uint32_t) (p)[1] << 8)
#define ngx_exa_le32(p)  (ngx_exa_le16(p) | ngx_exa_le16((p) + 2) << 16)


int
ngx_exa_ntlm_parse(const unsigned char *msg, size_t len, ngx_exa_cred_t *cred)
{
    int       rc;
    uint32_t  type, flags;

    if (len < 12 || memcmp(msg, "NTLMSSP\0", 8) != 0) {
        return ngx_exa_unidentified(cred, "not an NTLM message");
    }

    if (len > NGX_EXA_NTLM_MAX) {
        return ngx_exa_unidentified(cred, "NTLM message too long");
    }

    type = ngx_exa_le32(msg + 8);

    if (type == 1) {
        cred->status = NGX_EXA_CRED_HANDSHAKE;
        cred->detail = "ntlm negotiate";
        return NGX_EXA_CRED_HANDSHAKE;
    }

    if (type != 3) {
        return ngx_exa_unidentified(cred, "unexpected NTLM message type");
    }

    if (len < 64) {
        return ngx_exa_unidentified(cred, "NTLM authenticate too short");
    }

    flags = ngx_exa_le32(msg + 60);

    rc = ngx_exa_ntlm_string(msg, len, 28, flags & NGX_EXA_NTLM_UNICODE,
                             cred->domain, &cred->domain_len);
    if (rc != 0) {
        return ngx_exa_unidentified(cred, "bad NTLM domain field");
    }

    rc = ngx_exa_ntlm_string(msg, len, 36, flags & NGX_EXA_NTLM_UNICODE,
                             cred->user, &cred->user_len);
    if (rc != 0) {
        return ngx_exa_unidentified(cred, "bad NTLM user field");
    }

    if (cred->user_len == 0) {
        return ngx_exa_unidentified(cred, "anonymous NTLM");
    }

    cred->status = NGX_EXA_CRED_USER;
    cred->detail = "ntlm";

    return NGX_EXA_CRED_USER;
}


/*
 * Reads the string a security buffer at msg + field points to: UTF-16LE
 * to UTF-8 with NEGOTIATE_UNICODE, else printable ASCII only (the OEM code
 * page of the client is unknown).  Returns 0, or -1 for anything hostile.
 */

static int
ngx_exa_ntlm_string(const unsigned char *msg, size_t len, size_t field,
    int unicode, unsigned char *out, size_t *outlen)
{
    size_t                i, n, slen;
    uint32_t              c, c2;
    uint64_t              off;
    const unsigned char  *p;

    *outlen = 0;

    slen = ngx_exa_le16(msg + field);
    off = ngx_exa_le32(msg + field + 4);

    if (slen == 0) {
        return 0;
    }

    /* 64-bit arithmetic: no wrap; the payload follows the fixed header */

    if (off < 64 || off + slen > len) {
        return -1;
    }

    p = msg + off;
    n = 0;

    if (!unicode) {
        if (slen > NGX_EXA_NAME_MAX) {
            return -1;
        }

        for (i = 0; i < slen; i++) {
            if (p[i] < 0x20 || p[i] > 0x7e) {
                return -1;
            }

            out[n++] = p[i];
        }

        *outlen = n;
        return 0;
    }

    if (slen & 1) {
        return -1;
    }

    for (i = 0; i < slen; i += 2) {
        c = ngx_exa_le16(p + i);

        if (c >= 0xd800 && c <= 0xdbff) {
            if (i + 2 >= slen) {
                return -1;
            }

            c2 = ngx_exa_le16(p + i + 2);

            if (c2 < 0xdc00 || c2 > 0xdfff) {
                return -1;
            }

            c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
            i += 2;

        } else if (c >= 0xdc00 && c <= 0xdfff) {
            return -1;
        }

        if (c == 0) {
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


/*
 * Negotiate ([RFC 4559], [RFC 4178], [MS-SPNG]): raw NTLMSSP, a GSS
 * InitialContextToken carrying SPNEGO NegTokenInit, or a NegTokenResp;
 * the NTLM message inside names the user.  Kerberos names nobody without
 * the service key.
 */

#define NGX_EXA_DER_MAX_LEN     0x10000

static const unsigned char  ngx_exa_oid_spnego[] = {
    0x2b, 0x06, 0x01, 0x05, 0x05, 0x02
};

static const unsigned char  ngx_exa_oid_krb5[] = {
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02
};

static const unsigned char  ngx_exa_oid_mskrb5[] = {
    0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02
};


/*
 * One DER TLV at *p, strictly: low tag numbers only, definite lengths in
 * their shortest form, contents inside [*p, last).  Returns 0 or -1.
 */

static int
ngx_exa_der(const unsigned char **p, const unsigned char *last,
    unsigned *tag, const unsigned char **v, size_t *vlen)
{
    size_t                n, i, l;
    const unsigned char  *q;

    q = *p;

    if (last - q < 2) {
        return -1;
    }

    *tag = q[0];

    if ((q[0] & 0x1f) == 0x1f) {
        return -1;
    }

    if (q[1] < 0x80) {
        l = q[1];
        q += 2;

    } else {
        n = q[1] & 0x7f;

        /* no indefinite length, at most 3 length octets, no zero lead */

        if (n == 0 || n > 3 || (size_t) (last - q) < 2 + n || q[2] == 0) {
            return -1;
        }

        l = 0;
        for (i = 0; i < n; i++) {
            l = (l << 8) | q[2 + i];
        }

        if (l < 0x80 || l > NGX_EXA_DER_MAX_LEN) {
            return -1;
        }

        q += 2 + n;
    }

    if ((size_t) (last - q) < l) {
        return -1;
    }

    *v = q;
    *vlen = l;
    *p = q + l;

    return 0;
}


int
ngx_exa_spnego_parse(const unsigned char *tok, size_t len,
    ngx_exa_cred_t *cred)
{
    size_t                vlen, olen;
    unsigned              tag;
    const unsigned char  *p, *last, *v, *o;

    if (len >= 8 && memcmp(tok, "NTLMSSP\0", 8) == 0) {
        return ngx_exa_ntlm_parse(tok, len, cred);
    }

    if (tok[0] == 0x6e) {
        return ngx_exa_unidentified(cred, "kerberos");
    }

    if (tok[0] == 0xa1) {
        return ngx_exa_spnego_inner(tok, len, cred);
    }

    if (tok[0] != 0x60) {
        return ngx_exa_unidentified(cred, "unknown negotiate token");
    }

    /* [APPLICATION 0] { thisMech OID, innerToken } */

    p = tok;
    last = tok + len;

    if (ngx_exa_der(&p, last, &tag, &v, &vlen) != 0 || p != last) {
        return ngx_exa_unidentified(cred, "bad DER");
    }

    p = v;
    last = v + vlen;

    if (ngx_exa_der(&p, last, &tag, &o, &olen) != 0 || tag != 0x06) {
        return ngx_exa_unidentified(cred, "bad DER");
    }

    if ((olen == sizeof(ngx_exa_oid_krb5)
         && memcmp(o, ngx_exa_oid_krb5, olen) == 0)
        || (olen == sizeof(ngx_exa_oid_mskrb5)
            && memcmp(o, ngx_exa_oid_mskrb5, olen) == 0))
    {
        return ngx_exa_unidentified(cred, "kerberos");
    }

    if (olen != sizeof(ngx_exa_oid_spnego)
        || memcmp(o, ngx_exa_oid_spnego, olen) != 0)
    {
        return ngx_exa_unidentified(cred, "unknown GSS mechanism");
    }

    if (p == last || *p != 0xa0) {
        return ngx_exa_unidentified(cred, "no SPNEGO negTokenInit");
    }

    return ngx_exa_spnego_inner(p, last - p, cred);
}


/*
 * NegTokenInit [0] { mechTypes [0], reqFlags [1], mechToken [2],
 * mechListMIC [3] (or negHints [3], mechListMIC [4]) } and NegTokenResp
 * [1] { negState [0], supportedMech [1], responseToken [2],
 * mechListMIC [3] }: context tags must rise; unknown higher ones are
 * skipped; the token is [2].
 */

static int
ngx_exa_spnego_inner(const unsigned char *tok, size_t len,
    ngx_exa_cred_t *cred)
{
    size_t                vlen, slen, olen;
    unsigned              tag, stag, last_tag;
    const unsigned char  *p, *last, *v, *s, *mech, *o;

    p = tok;
    last = tok + len;

    if (ngx_exa_der(&p, last, &tag, &v, &vlen) != 0 || p != last
        || (tag != 0xa0 && tag != 0xa1))
    {
        return ngx_exa_unidentified(cred, "bad DER");
    }

    p = v;
    last = v + vlen;

    if (ngx_exa_der(&p, last, &stag, &s, &slen) != 0 || p != last
        || stag != 0x30)
    {
        return ngx_exa_unidentified(cred, "bad DER");
    }

    p = s;
    last = s + slen;
    mech = NULL;
    olen = 0;
    last_tag = 0;

    while (p < last) {
        if (ngx_exa_der(&p, last, &stag, &v, &vlen) != 0
            || (stag & 0xe0) != 0xa0)
        {
            return ngx_exa_unidentified(cred, "bad DER");
        }

        if (last_tag && stag <= last_tag) {
            return ngx_exa_unidentified(cred, "SPNEGO fields out of order");
        }

        last_tag = stag;

        if (stag != 0xa2) {
            continue;
        }

        /* the token: exactly one OCTET STRING */

        o = v;

        if (ngx_exa_der(&o, v + vlen, &tag, &mech, &olen) != 0
            || tag != 0x04 || o != v + vlen)
        {
            return ngx_exa_unidentified(cred, "bad DER");
        }

        if (olen == 0) {
            mech = NULL;
        }
    }

    if (mech == NULL) {
        cred->status = NGX_EXA_CRED_HANDSHAKE;
        cred->detail = "spnego without a token";
        return NGX_EXA_CRED_HANDSHAKE;
    }

    if (olen >= 8 && memcmp(mech, "NTLMSSP\0", 8) == 0) {
        return ngx_exa_ntlm_parse(mech, olen, cred);
    }

    if (mech[0] == 0x60) {

        /* a GSS token: Kerberos, or SPNEGO nested in SPNEGO */

        p = mech;
        last = mech + olen;

        if (ngx_exa_der(&p, last, &tag, &v, &vlen) == 0) {
            p = v;

            if (ngx_exa_der(&p, v + vlen, &tag, &o, &slen) == 0
                && tag == 0x06 && slen == sizeof(ngx_exa_oid_spnego)
                && memcmp(o, ngx_exa_oid_spnego, slen) == 0)
            {
                return ngx_exa_unidentified(cred, "nested SPNEGO");
            }
        }

        return ngx_exa_unidentified(cred, "kerberos");
    }

    if (mech[0] == 0x6e) {
        return ngx_exa_unidentified(cred, "kerberos");
    }

    return ngx_exa_unidentified(cred, "unknown mechanism token");
}


/*
 * Bearer: a JWT (RFC 7519) whose payload names the user in one of the
 * configured claims.  Nothing is verified (Exchange verifies); the token
 * must still be well formed: three base64url segments without padding, a
 * JSON object payload (RFC 8259, strictly, nesting at most 32 deep), a
 * name claim that is a string and appears once.
 */

#define NGX_EXA_JSON_DEPTH      32
#define NGX_EXA_CLAIM_KEY_MAX   64
#define NGX_EXA_CLAIMS_MAX      8


typedef struct {
    const unsigned char   *p;
    const unsigned char   *last;
    const ngx_exa_str_t   *claims;
    size_t                 nclaims;
    int                    found[NGX_EXA_CLAIMS_MAX];   /* 0, 1, -1 bad */
    size_t                 len[NGX_EXA_CLAIMS_MAX];
    unsigned char         *value[NGX_EXA_CLAIMS_MAX];
} ngx_exa_json_t;


static const ngx_exa_str_t  ngx_exa_default_claims[] = {
    { 3, (const unsigned char *) "upn" },
    { 11, (const unsigned char *) "unique_name" },
    { 18, (const unsigned char *) "preferred_username" },
    { 5, (const unsigned char *) "email" }
};


static void
ngx_exa_json_ws(ngx_exa_json_t *js)
{
    while (js->p < js->last
           && (*js->p == ' ' || *js->p == '\t' || *js->p == '\n'
               || *js->p == '\r'))
    {
        js->p++;
    }
}


static void
ngx_exa_json_put(unsigned char *out, size_t cap, size_t *n, uint32_t c)
{
    unsigned char  b[4];
    size_t         i, k;

    if (c < 0x80) {
        b[0] = (unsigned char) c;
        k = 1;

    } else if (c < 0x800) {
        b[0] = (unsigned char) (0xc0 | (c >> 6));
        b[1] = (unsigned char) (0x80 | (c & 0x3f));
        k = 2;

    } else if (c < 0x10000) {
        b[0] = (unsigned char) (0xe0 | (c >> 12));
        b[1] = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
        b[2] = (unsigned char) (0x80 | (c & 0x3f));
        k = 3;

    } else {
        b[0] = (unsigned char) (0xf0 | (c >> 18));
        b[1] = (unsigned char) (0x80 | ((c >> 12) & 0x3f));
        b[2] = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
        b[3] = (unsigned char) (0x80 | (c & 0x3f));
        k = 4;
    }

    for (i = 0; i < k; i++) {
        if (out != NULL && *n < cap) {
            out[*n] = b[i];
        }

        (*n)++;
    }
}


static int
ngx_exa_json_hex4(const unsigned char *p, uint32_t *c)
{
    int  i, h;

    *c = 0;

    for (i = 0; i < 4; i++) {
        h = p[i] >= '0' && p[i] <= '9' ? p[i] - '0'
            : (p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f'
              ? (p[i] | 0x20) - 'a' + 10 : -1;

        if (h < 0) {
            return -1;
        }

        *c = (*c << 4) | (uint32_t) h;
    }

    return 0;
}


/*
 * A string at js->p (on its opening quote), decoded into out (up to cap
 * bytes; *n tells the whole length).  Returns 0 or -1.
 */

static int
ngx_exa_json_string(ngx_exa_json_t *js, unsigned char *out, size_t cap,
    size_t *n)
{
    size_t                k, i;
    uint32_t              c, c2, min;
    const unsigned char  *p;

    *n = 0;
    p = js->p + 1;

    for ( ;; ) {
        if (p >= js->last) {
            return -1;
        }

        c = *p;

        if (c == '"') {
            js->p = p + 1;
            return 0;
        }

        if (c < 0x20) {
            return -1;
        }

        if (c == '\\') {
            if (js->last - p < 2) {
                return -1;
            }

            switch (p[1]) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;

            case 'u':
                if (js->last - p < 6 || ngx_exa_json_hex4(p + 2, &c) != 0) {
                    return -1;
                }

                p += 4;

                if (c >= 0xdc00 && c <= 0xdfff) {
                    return -1;
                }

                if (c >= 0xd800 && c <= 0xdbff) {
                    if (js->last - p < 8 || p[2] != '\\' || p[3] != 'u'
                        || ngx_exa_json_hex4(p + 4, &c2) != 0
                        || c2 < 0xdc00 || c2 > 0xdfff)
                    {
                        return -1;
                    }

                    c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
                    p += 6;
                }

                break;

            default:
                return -1;
            }

            ngx_exa_json_put(out, cap, n, c);
            p += 2;
            continue;
        }

        if (c < 0x80) {
            ngx_exa_json_put(out, cap, n, c);
            p++;
            continue;
        }

        /* strict UTF-8 */

        if (c >= 0xc2 && c <= 0xdf) {
            k = 1; c &= 0x1f; min = 0x80;

        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2; c &= 0x0f; min = 0x800;

        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3; c &= 0x07; min = 0x10000;

        } else {
            return -1;
        }

        if ((size_t) (js->last - p) <= k) {
            return -1;
        }

        for (i = 1; i <= k; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return -1;
            }

            c = (c << 6) | (p[i] & 0x3f);
        }

        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
            return -1;
        }

        ngx_exa_json_put(out, cap, n, c);
        p += k + 1;
    }
}


static int
ngx_exa_json_value(ngx_exa_json_t *js, int depth, int top);


static int
ngx_exa_json_number(ngx_exa_json_t *js)
{
    const unsigned char  *p, *d;

    p = js->p;

    if (p < js->last && *p == '-') {
        p++;
    }

    d = p;

    if (p < js->last && *p == '0') {
        p++;

    } else {
        while (p < js->last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p == d) {
        return -1;
    }

    if (p < js->last && *p == '.') {
        d = ++p;

        while (p < js->last && *p >= '0' && *p <= '9') {
            p++;
        }

        if (p == d) {
            return -1;
        }
    }

    if (p < js->last && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < js->last && (*p == '+' || *p == '-')) {
            p++;
        }

        d = p;

        while (p < js->last && *p >= '0' && *p <= '9') {
            p++;
        }

        if (p == d) {
            return -1;
        }
    }

    js->p = p;

    return 0;
}


static int
ngx_exa_json_literal(ngx_exa_json_t *js, const char *lit, size_t len)
{
    if ((size_t) (js->last - js->p) < len || memcmp(js->p, lit, len) != 0) {
        return -1;
    }

    js->p += len;

    return 0;
}


static int
ngx_exa_json_object(ngx_exa_json_t *js, int depth, int top)
{
    size_t         klen, i, vlen;
    unsigned char  key[NGX_EXA_CLAIM_KEY_MAX];

    js->p++;
    ngx_exa_json_ws(js);

    if (js->p < js->last && *js->p == '}') {
        js->p++;
        return 0;
    }

    for ( ;; ) {
        if (js->p >= js->last || *js->p != '"'
            || ngx_exa_json_string(js, key, sizeof(key), &klen) != 0)
        {
            return -1;
        }

        ngx_exa_json_ws(js);

        if (js->p >= js->last || *js->p != ':') {
            return -1;
        }

        js->p++;
        ngx_exa_json_ws(js);

        for (i = 0; top && i < js->nclaims; i++) {
            if (js->claims[i].len == klen && klen <= sizeof(key)
                && memcmp(js->claims[i].data, key, klen) == 0)
            {
                break;
            }
        }

        if (top && i < js->nclaims) {

            /* a name claim: once only, a string, not too long */

            if (js->found[i] != 0) {
                return -1;
            }

            if (js->p < js->last && *js->p == '"') {
                if (ngx_exa_json_string(js, js->value[i], NGX_EXA_NAME_MAX,
                                        &vlen)
                    != 0)
                {
                    return -1;
                }

                js->found[i] = vlen <= NGX_EXA_NAME_MAX ? 1 : -1;
                js->len[i] = vlen;

            } else {
                if (ngx_exa_json_value(js, depth + 1, 0) != 0) {
                    return -1;
                }

                js->found[i] = -1;
            }

        } else if (ngx_exa_json_value(js, depth + 1, 0) != 0) {
            return -1;
        }

        ngx_exa_json_ws(js);

        if (js->p < js->last && *js->p == ',') {
            js->p++;
            ngx_exa_json_ws(js);
            continue;
        }

        if (js->p < js->last && *js->p == '}') {
            js->p++;
            return 0;
        }

        return -1;
    }
}


static int
ngx_exa_json_value(ngx_exa_json_t *js, int depth, int top)
{
    size_t  n;

    if (depth > NGX_EXA_JSON_DEPTH || js->p >= js->last) {
        return -1;
    }

    switch (*js->p) {

    case '{':
        return ngx_exa_json_object(js, depth, top);

    case '[':
        js->p++;
        ngx_exa_json_ws(js);

        if (js->p < js->last && *js->p == ']') {
            js->p++;
            return 0;
        }

        for ( ;; ) {
            if (ngx_exa_json_value(js, depth + 1, 0) != 0) {
                return -1;
            }

            ngx_exa_json_ws(js);

            if (js->p < js->last && *js->p == ',') {
                js->p++;
                ngx_exa_json_ws(js);
                continue;
            }

            if (js->p < js->last && *js->p == ']') {
                js->p++;
                return 0;
            }

            return -1;
        }

    case '"':
        return ngx_exa_json_string(js, NULL, 0, &n);

    case 't':
        return ngx_exa_json_literal(js, "true", 4);

    case 'f':
        return ngx_exa_json_literal(js, "false", 5);

    case 'n':
        return ngx_exa_json_literal(js, "null", 4);

    default:
        return ngx_exa_json_number(js);
    }
}


int
ngx_exa_jwt_parse(const ngx_exa_cred_conf_t *conf, const unsigned char *tok,
    size_t len, unsigned char *work, size_t worklen, ngx_exa_cred_t *cred)
{
    size_t                i, n, seg[3], segn;
    ngx_exa_json_t        js;
    const unsigned char  *dot1, *dot2;
    unsigned char         values[NGX_EXA_CLAIMS_MAX][NGX_EXA_NAME_MAX];

    (void) worklen;

    dot1 = memchr(tok, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', tok + len - dot1 - 1) : NULL;

    if (dot2 == NULL || memchr(dot2 + 1, '.', tok + len - dot2 - 1)) {
        return ngx_exa_unidentified(cred, "not a JWT");
    }

    seg[0] = dot1 - tok;
    seg[1] = dot2 - dot1 - 1;
    seg[2] = tok + len - dot2 - 1;

    if (seg[0] == 0 || seg[1] == 0) {
        return ngx_exa_unidentified(cred, "not a JWT");
    }

    if (seg[2] == 0) {
        return ngx_exa_unidentified(cred, "unsigned JWT");
    }

    /* every segment is base64url without padding */

    if (ngx_exa_base64_decode(work, tok, seg[0], 1) == (size_t) -1
        || ngx_exa_base64_decode(work, dot2 + 1, seg[2], 1) == (size_t) -1)
    {
        return ngx_exa_unidentified(cred, "bad base64url in JWT");
    }

    n = ngx_exa_base64_decode(work, dot1 + 1, seg[1], 1);

    if (n == (size_t) -1) {
        return ngx_exa_unidentified(cred, "bad base64url in JWT");
    }

    memset(&js, 0, sizeof(ngx_exa_json_t));

    js.p = work;
    js.last = work + n;

    if (conf && conf->nclaims) {
        js.claims = conf->claims;
        js.nclaims = conf->nclaims;

    } else {
        js.claims = ngx_exa_default_claims;
        js.nclaims = sizeof(ngx_exa_default_claims) / sizeof(ngx_exa_str_t);
    }

    if (js.nclaims > NGX_EXA_CLAIMS_MAX) {
        js.nclaims = NGX_EXA_CLAIMS_MAX;
    }

    for (i = 0; i < js.nclaims; i++) {
        js.value[i] = values[i];
    }

    ngx_exa_json_ws(&js);

    if (js.p >= js.last || *js.p != '{'
        || ngx_exa_json_value(&js, 0, 1) != 0)
    {
        return ngx_exa_unidentified(cred, "bad JSON in JWT");
    }

    ngx_exa_json_ws(&js);

    if (js.p != js.last) {
        return ngx_exa_unidentified(cred, "bad JSON in JWT");
    }

    for (segn = 0; segn < js.nclaims; segn++) {
        if (js.found[segn] == 0) {
            continue;
        }

        if (js.found[segn] < 0 || js.len[segn] == 0) {
            return ngx_exa_unidentified(cred, "JWT name claim is not a name");
        }

        memcpy(cred->user, values[segn], js.len[segn]);
        cred->user_len = js.len[segn];
        cred->status = NGX_EXA_CRED_USER;
        cred->detail = "bearer";

        return NGX_EXA_CRED_USER;
    }

    return ngx_exa_unidentified(cred, "no name claim in JWT");
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
