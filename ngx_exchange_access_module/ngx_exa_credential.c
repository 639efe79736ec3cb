
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <string.h>

#include "ngx_exa_credential.h"
#include "ngx_exa_name.h"
#include "ngx_exa_assert.h"


static int ngx_exa_credential(const ngx_exa_cred_conf_t *conf, int scheme,
    const unsigned char *value, size_t len, unsigned char *work,
    size_t worklen, ngx_exa_cred_t *cred, int fast);
static int ngx_exa_ntlm_fast(const unsigned char *tok, size_t len,
    unsigned char *work, ngx_exa_cred_t *cred);
static int ngx_exa_printable(const unsigned char *p, size_t n);
static int ngx_exa_basic(const unsigned char *tok, size_t len,
    unsigned char *work, size_t worklen, ngx_exa_cred_t *cred);
static int ngx_exa_ntlm_authenticate(const unsigned char *msg, size_t len,
    ngx_exa_cred_t *cred);
static inline int ngx_exa_basic_fast(const unsigned char *tok, size_t len,
    ngx_exa_cred_t *cred);
static int ngx_exa_ntlm_string(const unsigned char *msg, size_t len,
    size_t field, int unicode, unsigned char *out, size_t *outlen);
static int ngx_exa_unidentified(ngx_exa_cred_t *cred, const char *detail);
static int ngx_exa_der(const unsigned char **p, const unsigned char *last,
    unsigned *tag, const unsigned char **v, size_t *vlen);
static int ngx_exa_spnego_inner(const unsigned char *tok, size_t len,
    ngx_exa_cred_t *cred);


/*
 * The schemes, one entry per ngx_exa_auth_scheme_e: the name as the
 * Authorization header spells it (any case) and as logs show it, and what
 * the scheme is.
 */

typedef struct {
    const char            *name;
    size_t                 len;
    unsigned               flags;
} ngx_exa_scheme_t;


#define ngx_exa_scheme(name, flags)  { name, sizeof(name) - 1, flags }

static const ngx_exa_scheme_t  ngx_exa_schemes[] = {
    ngx_exa_scheme("none", 0),
    ngx_exa_scheme("basic", NGX_EXA_SCHEME_SECRET),
    ngx_exa_scheme("ntlm", NGX_EXA_SCHEME_CONNECTION),
    ngx_exa_scheme("negotiate", NGX_EXA_SCHEME_CONNECTION),
    ngx_exa_scheme("bearer", 0),
    ngx_exa_scheme("other", 0)
};

NGX_EXA_ASSERT(schemes, NGX_EXA_NELTS(ngx_exa_schemes) == NGX_EXA_AUTH_N);


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
 * The token of "scheme SP token", *len its length: the blanks after the
 * scheme's name, and those at the end, which a token68 never has, are not
 * part of it.
 */

static inline const unsigned char *
ngx_exa_token(int scheme, const unsigned char *value, size_t *len)
{
    size_t  i, n;

    n = *len;

    for (i = ngx_exa_schemes[scheme].len;
         i < n && (value[i] == ' ' || value[i] == '\t');
         i++)
    {
        /* void */
    }

    value += i;
    n -= i;

    while (n && (value[n - 1] == ' ' || value[n - 1] == '\t')) {
        n--;
    }

    *len = n;

    return value;
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
    return ngx_exa_credential(conf, ngx_exa_scheme_of(value, len), value,
                              len, work, worklen, cred, 1);
}


/* the same, the scheme already read by ngx_exa_scheme_of(value, len) */

int
ngx_exa_credential_parse_as(const ngx_exa_cred_conf_t *conf, int scheme,
    const unsigned char *value, size_t len, unsigned char *work,
    size_t worklen, ngx_exa_cred_t *cred)
{
    return ngx_exa_credential(conf, scheme, value, len, work, worklen, cred,
                              1);
}


/*
 * The same, without scratch space, for the credentials that can be read
 * so: Basic, the user name decoded straight to cred->user, the password
 * only checked, never decoded (ngx_exa_basic_fast()).  Returns
 * NGX_EXA_CRED_USER, with cred filled as ngx_exa_credential_parse_as()
 * fills it, or -1 for any other credential, which
 * ngx_exa_credential_parse_as() reads.  Leaves no byte of a password
 * anywhere.
 */

int
ngx_exa_credential_parse_fast(int scheme, const unsigned char *value,
    size_t len, ngx_exa_cred_t *cred)
{
    const unsigned char  *tok;

    if (scheme != NGX_EXA_AUTH_BASIC
        || len <= ngx_exa_schemes[NGX_EXA_AUTH_BASIC].len)
    {
        return -1;
    }

    /* "Basic", one space, a token without blanks: the usual header */

    if (len > 6 && value[5] == ' ' && value[6] != ' ' && value[6] != '\t'
        && value[len - 1] != ' ' && value[len - 1] != '\t')
    {
        tok = value + 6;
        len -= 6;

    } else {
        tok = ngx_exa_token(NGX_EXA_AUTH_BASIC, value, &len);
    }

    if (len == 0 || len > NGX_EXA_TOKEN_MAX) {
        return -1;
    }

    memset(cred, 0, offsetof(ngx_exa_cred_t, domain));
    cred->scheme = NGX_EXA_AUTH_BASIC;

    return ngx_exa_basic_fast(tok, len, cred);
}


/* the same, with every token decoded whole: for the tests */

int
ngx_exa_credential_parse_full(const ngx_exa_cred_conf_t *conf,
    const unsigned char *value, size_t len, unsigned char *work,
    size_t worklen, ngx_exa_cred_t *cred)
{
    return ngx_exa_credential(conf, ngx_exa_scheme_of(value, len), value,
                              len, work, worklen, cred, 0);
}


static int
ngx_exa_credential(const ngx_exa_cred_conf_t *conf, int scheme,
    const unsigned char *value, size_t len, unsigned char *work,
    size_t worklen, ngx_exa_cred_t *cred, int fast)
{
    int                   rc;
    size_t                n;
    const unsigned char  *tok;

    memset(cred, 0, offsetof(ngx_exa_cred_t, domain));

    if (scheme <= NGX_EXA_AUTH_NONE || scheme >= NGX_EXA_AUTH_OTHER) {
        cred->scheme = NGX_EXA_AUTH_OTHER;
        return ngx_exa_unidentified(cred, "unknown scheme");
    }

    cred->scheme = scheme;

    tok = ngx_exa_token(scheme, value, &len);

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
        if (fast && ngx_exa_basic_fast(tok, len, cred) >= 0) {
            return NGX_EXA_CRED_USER;
        }

        return ngx_exa_basic(tok, len, work, worklen, cred);
    }

    if (cred->scheme == NGX_EXA_AUTH_BEARER) {
        return ngx_exa_jwt_parse(conf, tok, len, work, worklen, cred);
    }

    if (fast) {
        rc = ngx_exa_ntlm_fast(tok, len, work, cred);

        if (rc >= 0) {
            return rc;
        }
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

    /* printable ASCII needs no other UTF-8 check */

    if (!ngx_exa_printable(work, n) && !ngx_exa_utf8_valid(work, n)) {
        return ngx_exa_unidentified(cred, "user name is not valid UTF-8");
    }

    memcpy(cred->user, work, n);
    cred->user_len = n;
    cred->status = NGX_EXA_CRED_USER;
    cred->detail = "basic";

    return NGX_EXA_CRED_USER;
}


/*
 * The fast path of Basic: the user name, up to the first colon, decoded
 * straight to cred->user by ngx_exa_base64_prefix(), which checks the
 * rest of the token as ngx_exa_base64_decode() would without decoding
 * the password.  Returns NGX_EXA_CRED_USER, which is what ngx_exa_basic()
 * answers then, with the same name, or -1 for anything else (no colon
 * among the bytes it decodes, an empty name, a name that is not printable
 * ASCII nor valid UTF-8, a token that is not strict base64): ngx_exa_basic()
 * tells what it is.
 */

static inline int
ngx_exa_basic_fast(const unsigned char *tok, size_t len, ngx_exa_cred_t *cred)
{
    int     printable;
    size_t  n;

    n = ngx_exa_base64_prefix(cred->user, sizeof(cred->user), tok, len, ':',
                              &printable);

    if (n == (size_t) -1 || n == 0
        || (!printable && !ngx_exa_utf8_valid(cred->user, n)))
    {
        return -1;
    }

    cred->user[n] = '\0';
    cred->user_len = n;
    cred->status = NGX_EXA_CRED_USER;
    cred->detail = "basic";

    return NGX_EXA_CRED_USER;
}


/*
 * Whether bytes are printable ASCII (0x20 to 0x7e), eight at a time: a
 * byte below 0x20 borrows into its top bit, one above 0x7e has it set
 * once 1 is added.  A borrow or a carry into the next byte comes from a
 * byte that is not printable, so it changes nothing.
 */

static int
ngx_exa_printable(const unsigned char *p, size_t n)
{
    uint64_t  w, bad;

    bad = 0;

    for ( /* void */ ; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        bad |= ((w - 0x2020202020202020ULL) & ~w)
               | (w + 0x0101010101010101ULL) | w;
    }

    if (n) {
        w = 0x4141414141414141ULL;          /* "A", printable */
        memcpy(&w, p, n);
        bad |= ((w - 0x2020202020202020ULL) & ~w)
               | (w + 0x0101010101010101ULL) | w;
    }

    return (bad & 0x8080808080808080ULL) == 0;
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
    uint32_t  type;

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

    return ngx_exa_ntlm_authenticate(msg, len, cred);
}


/*
 * An AUTHENTICATE_MESSAGE of len bytes, its signature and type read: of
 * msg only the domain and user security buffers (bytes 28 to 43), the
 * first byte of the flags (60) and the strings the buffers point to are
 * read.
 */

static int
ngx_exa_ntlm_authenticate(const unsigned char *msg, size_t len,
    ngx_exa_cred_t *cred)
{
    int  rc, unicode;

    if (len < 64) {
        return ngx_exa_unidentified(cred, "NTLM authenticate too short");
    }

    unicode = msg[60] & NGX_EXA_NTLM_UNICODE;

    rc = ngx_exa_ntlm_string(msg, len, 28, unicode, cred->domain,
                             &cred->domain_len);
    if (rc != 0) {
        return ngx_exa_unidentified(cred, "bad NTLM domain field");
    }

    rc = ngx_exa_ntlm_string(msg, len, 36, unicode, cred->user,
                             &cred->user_len);
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
 * The fast path of an NTLM AUTHENTICATE_MESSAGE in a token (NTLM, or
 * Negotiate carrying raw NTLMSSP): the token is checked whole, as
 * ngx_exa_base64_decode() would, but only the bytes
 * ngx_exa_ntlm_authenticate() reads are decoded, to their places in work:
 * the domain and user security buffers (bytes 27 to 44, quads 9 to 14),
 * the flags' first byte (60, quad 20), and the two strings they point
 * to.  The first twelve bytes, the signature and type 3, are the first
 * sixteen characters: a quad of characters is three bytes and no other,
 * so the characters are compared as they are.  Returns what decoding the
 * whole token gives, or -1: anything else is read the full way.
 */

static const unsigned char  ngx_exa_ntlm_type3[16] = {
    'T', 'l', 'R', 'M', 'T', 'V', 'N', 'T', 'U', 'A', 'A', 'D', 'A', 'A',
    'A', 'A'
};


static int
ngx_exa_ntlm_fast(const unsigned char *tok, size_t len, unsigned char *work,
    ngx_exa_cred_t *cred)
{
    size_t                i, n, field, slen, chars;
    uint32_t              v;
    uint64_t              off, a[2], b[2];
    const unsigned char  *p;

    if (len < 16) {
        return -1;
    }

    memcpy(a, tok, 16);
    memcpy(b, ngx_exa_ntlm_type3, 16);

    if (((a[0] ^ b[0]) | (a[1] ^ b[1])) != 0) {
        return -1;
    }

    n = ngx_exa_base64_check(tok, len, &chars);

    if (n == (size_t) -1 || n < 64 || n > NGX_EXA_NTLM_MAX) {
        return -1;
    }

    /* whole quads: 64 bytes are 85 characters and more */

    for (p = tok + 9 * 4, i = 27; i < 45; p += 4, i += 3) {
        v = ngx_exa_base64_quad(p);

        work[i] = (unsigned char) (v >> 16);
        work[i + 1] = (unsigned char) (v >> 8);
        work[i + 2] = (unsigned char) v;
    }

    work[60] = (unsigned char) (ngx_exa_base64_quad(tok + 20 * 4) >> 16);

    for (i = 0; i < 2; i++) {
        field = i ? 36 : 28;
        slen = ngx_exa_le16(work + field);
        off = ngx_exa_le32(work + field + 4);

        if (slen && off >= 64 && off + slen <= n) {
            ngx_exa_base64_range(work, tok, chars, (size_t) off,
                                 (size_t) off + slen);
        }
    }

    return ngx_exa_ntlm_authenticate(work, n, cred);
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
    uint64_t              off, w;
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

    /*
     * ASCII, the common case, as the loop below would read it: four
     * characters at a time while four more fit, each with no high byte
     * and a low byte from 1 to 0x7f (0x7f more sets its top bit)
     */

    for (i = 0; i + 8 <= slen && n + 7 <= NGX_EXA_NAME_MAX; i += 8) {
#if (defined __BYTE_ORDER__ && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
        memcpy(&w, p + i, 8);
#else
        w = (uint64_t) ngx_exa_le32(p + i)
            | (uint64_t) ngx_exa_le32(p + i + 4) << 32;
#endif

        if ((w & 0xff80ff80ff80ff80ULL) != 0
            || ((w + 0x007f007f007f007fULL) & 0x0080008000800080ULL)
               != 0x0080008000800080ULL)
        {
            break;
        }

        out[n] = p[i];
        out[n + 1] = p[i + 2];
        out[n + 2] = p[i + 4];
        out[n + 3] = p[i + 6];
        n += 4;
    }

    for ( /* void */ ; i < slen; i += 2) {
        if (p[i + 1] != 0 || p[i] == 0 || p[i] >= 0x80
            || n + 4 > NGX_EXA_NAME_MAX)
        {
            break;
        }

        out[n++] = p[i];
    }

    for ( /* void */ ; i < slen; i += 2) {
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
 * The scheme of an Authorization header value: its first token, up to a
 * blank or the end, is one of the names of the table, letters in any
 * case.  A name is compared where a blank or the end follows it, four
 * letters at a time, then one by one.
 */

int
ngx_exa_scheme_of(const unsigned char *value, size_t len)
{
    int          scheme;
    size_t       i, n;
    uint32_t     w, v;
    const char  *name;

    for (scheme = NGX_EXA_AUTH_BASIC; scheme < NGX_EXA_AUTH_OTHER; scheme++) {

        n = ngx_exa_schemes[scheme].len;

        if (len < n || (len > n && value[n] != ' ' && value[n] != '\t')) {
            continue;
        }

        name = ngx_exa_schemes[scheme].name;

        for (i = 0; i + 4 <= n; i += 4) {
            memcpy(&w, value + i, 4);
            memcpy(&v, name + i, 4);

            if ((w | 0x20202020) != v) {
                break;
            }
        }

        if (i + 4 <= n) {
            continue;
        }

        while (i < n && (value[i] | 0x20) == (unsigned char) name[i]) {
            i++;
        }

        if (i == n) {
            return scheme;
        }
    }

    return NGX_EXA_AUTH_OTHER;
}


const char *
ngx_exa_scheme_name(int scheme)
{
    if (scheme < 0 || scheme >= NGX_EXA_AUTH_N) {
        scheme = NGX_EXA_AUTH_OTHER;
    }

    return ngx_exa_schemes[scheme].name;
}


unsigned
ngx_exa_scheme_flags(int scheme)
{
    if (scheme < 0 || scheme >= NGX_EXA_AUTH_N) {
        return 0;
    }

    return ngx_exa_schemes[scheme].flags;
}
