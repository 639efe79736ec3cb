
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <stdint.h>
#include <string.h>

#include "ngx_exa_classify.h"
#include "ngx_exa_assert.h"


#define NGX_EXA_SEGMENT_MAX     40
#define NGX_EXA_EMAILS_MAX      8       /* values of one name */
#define NGX_EXA_ADDRS_MAX       (NGX_EXA_EMAILS_MAX + 1)   /* and joined */


/* what decoding and normalising a path ran into */
#define NGX_EXA_T_ENC_SEP       0x01    /* %2f or %5c */
#define NGX_EXA_T_ENC_DOT       0x02    /* %2e */
#define NGX_EXA_T_DOUBLE        0x04    /* "%" + 2 hex left after decoding */
#define NGX_EXA_T_BAD           0x08    /* "%" not followed by 2 hex */
#define NGX_EXA_T_NUL           0x10    /* %00 */
#define NGX_EXA_T_BACKSLASH     0x20


typedef struct {
    const char            *name;
    size_t                 len;
    int                    protocol;
} ngx_exa_vdir_t;


typedef struct {
    const unsigned char   *data;
    size_t                 len;
} ngx_exa_span_t;


/* the room the removal of an address works in */

typedef struct {
    unsigned char         *pat;         /* the longest address + 1 */
    unsigned char         *out;         /* the path and query */
    uint32_t              *fail;        /* the longest address + 1 */
    uint32_t              *state;       /* the path and query */
} ngx_exa_scratch_t;


/* the explicit logon addresses a request carries */

typedef struct {
    ngx_exa_span_t         emails[NGX_EXA_ADDRS_MAX];
    ngx_exa_span_t         logons[NGX_EXA_ADDRS_MAX];
    size_t                 nemails;
    size_t                 nlogons;
    unsigned char         *buf;
} ngx_exa_addrs_t;


static int ngx_exa_hex(unsigned char c);
static size_t ngx_exa_decode(unsigned char *dst, const unsigned char *src,
    size_t len, int form, unsigned *tricks);
static size_t ngx_exa_normalise(unsigned char *p, size_t len,
    unsigned *tricks);
static int ngx_exa_vdir(const unsigned char *s, size_t len,
    unsigned *folded);
static const unsigned char *ngx_exa_segment(const unsigned char *p,
    const unsigned char *last, size_t *len);
static int ngx_exa_confuse(ngx_exa_class_t *cls, int protocol,
    const char *why);
static int ngx_exa_caseeq(const unsigned char *p, const char *s, size_t len);
static const unsigned char *ngx_exa_casefind(const unsigned char *h,
    size_t hlen, const unsigned char *n, size_t nlen);
static int ngx_exa_plain_address(const unsigned char *p, size_t len);
static int ngx_exa_vdir_in(const unsigned char *p, size_t len, int except);
static int ngx_exa_explicit_logon(const unsigned char *path, size_t len,
    int *target);
static size_t ngx_exa_space(const unsigned char *p, size_t len, int end);
static int ngx_exa_name_kind(const unsigned char *p, size_t len,
    int header);
static int ngx_exa_params(const ngx_exa_request_t *req, ngx_exa_addrs_t *a,
    unsigned char *names, unsigned *routing);
static void ngx_exa_work_sizes(const ngx_exa_request_t *req, size_t *pq,
    size_t *extra);
static void ngx_exa_join(ngx_exa_span_t *list, size_t *n,
    unsigned char **buf);
static size_t ngx_exa_kmp(const ngx_exa_span_t *a, int slash,
    unsigned char *pat, uint32_t *fail);
static size_t ngx_exa_remove(const unsigned char *d, size_t dlen,
    const unsigned char *pat, size_t m, int once, const uint32_t *fail,
    unsigned char *out, uint32_t *state);
static int ngx_exa_reroutes(const unsigned char *d, size_t dlen,
    const ngx_exa_span_t *a, int proto, ngx_exa_scratch_t *w, int *target);

#define ngx_exa_vd(s, p)  { s, sizeof(s) - 1, p }

static const ngx_exa_vdir_t  ngx_exa_vdirs[] = {
    ngx_exa_vd("mapi", NGX_EXA_PROTO_MAPI),
    ngx_exa_vd("rpc", NGX_EXA_PROTO_RPC),
    ngx_exa_vd("rpcwithcert", NGX_EXA_PROTO_RPC),
    ngx_exa_vd("ews", NGX_EXA_PROTO_EWS),
    ngx_exa_vd("api", NGX_EXA_PROTO_EWS),
    ngx_exa_vd("microsoft-server-activesync", NGX_EXA_PROTO_EAS),
    ngx_exa_vd("owa", NGX_EXA_PROTO_OWA),
    ngx_exa_vd("ecp", NGX_EXA_PROTO_ECP),
    ngx_exa_vd("oab", NGX_EXA_PROTO_OAB),
    ngx_exa_vd("autodiscover", NGX_EXA_PROTO_AUTODISCOVER),
    ngx_exa_vd("powershell", NGX_EXA_PROTO_POWERSHELL),
    { NULL, 0, 0 }
};


/* the names Exchange takes an address or a backend from */

static const ngx_exa_vdir_t  ngx_exa_param_names[] = {
    ngx_exa_vd("email", NGX_EXA_PARAM_EMAIL),
    ngx_exa_vd("x-owa-explicitlogonuser", NGX_EXA_PARAM_LOGON),
    ngx_exa_vd("x-beresource", NGX_EXA_PARAM_ROUTING),
    ngx_exa_vd("x-anonresource", NGX_EXA_PARAM_ROUTING),
    ngx_exa_vd("x-anonresource-backend", NGX_EXA_PARAM_ROUTING),
    ngx_exa_vd("x-commonaccesstoken", NGX_EXA_PARAM_ROUTING),
    ngx_exa_vd("x-rps-cat", NGX_EXA_PARAM_ROUTING),
    { NULL, 0, 0 }
};


static const char  *ngx_exa_protocol_names[] = {
    "other", "mapi", "rpc", "ews", "eas", "owa", "ecp", "oab",
    "autodiscover", "powershell"
};

NGX_EXA_ASSERT(protocol_names,
               NGX_EXA_NELTS(ngx_exa_protocol_names) == NGX_EXA_PROTO_N);


static int
ngx_exa_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


static int
ngx_exa_hex4(const unsigned char *p)
{
    int  i, h, u;

    u = 0;

    for (i = 0; i < 4; i++) {
        h = ngx_exa_hex(p[i]);

        if (h < 0) {
            return -1;
        }

        u = u * 16 + h;
    }

    return u;
}


static void
ngx_exa_decoded_trick(unsigned char c, unsigned *tricks)
{
    switch (c) {
    case '/':
    case '\\':
        *tricks |= NGX_EXA_T_ENC_SEP;
        break;
    case '.':
        *tricks |= NGX_EXA_T_ENC_DOT;
        break;
    case '\0':
        *tricks |= NGX_EXA_T_NUL;
        break;
    }
}


/*
 * Percent-decodes once, as IIS does before it picks a virtual directory.
 * With form set (query strings, form bodies, cookies), "+" is a space and
 * ASP.NET's "%uXXXX" is decoded too; the output is never longer than the
 * input.
 */

static size_t
ngx_exa_decode(unsigned char *dst, const unsigned char *src, size_t len,
    int form, unsigned *tricks)
{
    int            h, l, u;
    size_t         i, n;
    unsigned char  c;

    n = 0;

    for (i = 0; i < len; i++) {
        c = src[i];

        if (c == '+' && form) {
            c = ' ';

        } else if (c == '%' && form && i + 5 < len
                   && (src[i + 1] | 0x20) == 'u'
                   && (u = ngx_exa_hex4(src + i + 2)) >= 0)
        {
            /* ASP.NET's %uXXXX, as UTF-8; surrogates are broken */

            i += 5;

            if (u >= 0xd800 && u <= 0xdfff) {
                *tricks |= NGX_EXA_T_BAD;
                dst[n++] = '?';
                continue;
            }

            if (u >= 0x80) {
                if (u >= 0x800) {
                    dst[n++] = (unsigned char) (0xe0 | (u >> 12));
                    dst[n++] = (unsigned char) (0x80 | ((u >> 6) & 0x3f));

                } else {
                    dst[n++] = (unsigned char) (0xc0 | (u >> 6));
                }

                dst[n++] = (unsigned char) (0x80 | (u & 0x3f));
                continue;
            }

            c = (unsigned char) u;
            ngx_exa_decoded_trick(c, tricks);

        } else if (c == '%') {
            h = (i + 2 < len) ? ngx_exa_hex(src[i + 1]) : -1;
            l = (i + 2 < len) ? ngx_exa_hex(src[i + 2]) : -1;

            if (h < 0 || l < 0) {
                *tricks |= NGX_EXA_T_BAD;

            } else {
                c = (unsigned char) (h * 16 + l);
                i += 2;

                ngx_exa_decoded_trick(c, tricks);
            }
        }

        dst[n++] = c;
    }

    for (i = 0; i + 2 < n; i++) {
        if (dst[i] == '%' && ngx_exa_hex(dst[i + 1]) >= 0
            && ngx_exa_hex(dst[i + 2]) >= 0)
        {
            *tricks |= NGX_EXA_T_DOUBLE;
            break;
        }
    }

    return n;
}


/*
 * Normalises a decoded path in place the way IIS would still treat as the
 * same path: "\" is "/", slashes merge, "." and ".." segments resolve.
 */

static size_t
ngx_exa_normalise(unsigned char *p, size_t len, unsigned *tricks)
{
    size_t  i, n, seg;

    n = 0;

    for (i = 0; i < len; i++) {
        if (p[i] == '\\') {
            p[i] = '/';
            *tricks |= NGX_EXA_T_BACKSLASH;
        }
    }

    for (i = 0; i < len; i++) {

        if (p[i] == '/') {
            if (n > 0 && p[n - 1] == '/') {
                continue;
            }

            p[n++] = '/';
            continue;
        }

        if (p[i] == '.' && (n == 0 || p[n - 1] == '/')) {

            /* "." or ".." as a whole segment */

            seg = (i + 1 < len && p[i + 1] == '.') ? 2 : 1;

            if (i + seg == len || p[i + seg] == '/') {
                if (seg == 2 && n > 1) {
                    /* drop the previous segment, keep its leading slash */
                    n--;
                    while (n > 0 && p[n - 1] != '/') {
                        n--;
                    }
                }

                i += seg;

                if (n == 0) {
                    p[n++] = '/';
                }

                continue;
            }
        }

        p[n++] = p[i];
    }

    return n;
}


/*
 * The virtual directory a path segment names, as a case-insensitive
 * Windows would see it: ASCII letters in any case, trailing dots and
 * blanks ignored, and the characters whose upper case is an ASCII letter
 * (U+0131 dotless i, U+0130, U+017F long s, U+212A Kelvin sign) folded.
 * *folded tells that anything but the case had to be forgiven.
 */

static int
ngx_exa_vdir(const unsigned char *s, size_t len, unsigned *folded)
{
    size_t                 i, n;
    unsigned char          c;
    const ngx_exa_vdir_t  *v;
    unsigned char          buf[NGX_EXA_SEGMENT_MAX];

    n = 0;

    for (i = 0; i < len; i++) {

        if (n == NGX_EXA_SEGMENT_MAX) {
            return NGX_EXA_PROTO_OTHER;
        }

        c = s[i];

        if (c < 0x80) {
            buf[n++] = (c >= 'A' && c <= 'Z') ? (c | 0x20) : c;
            continue;
        }

        if (c == 0xc4 && i + 1 < len && (s[i + 1] == 0xb1 || s[i + 1] == 0xb0))
        {
            buf[n++] = 'i';
            i++;

        } else if (c == 0xc5 && i + 1 < len && s[i + 1] == 0xbf) {
            buf[n++] = 's';
            i++;

        } else if (c == 0xe2 && i + 2 < len && s[i + 1] == 0x84
                   && s[i + 2] == 0xaa)
        {
            buf[n++] = 'k';
            i += 2;

        } else {
            return NGX_EXA_PROTO_OTHER;
        }

        *folded = 1;
    }

    while (n > 0 && (buf[n - 1] == '.' || buf[n - 1] == ' ')) {
        n--;
        *folded = 1;
    }

    for (v = ngx_exa_vdirs; v->name; v++) {
        if (v->len == n && memcmp(buf, v->name, n) == 0) {
            return v->protocol;
        }
    }

    return NGX_EXA_PROTO_OTHER;
}


/* the next segment of a path at p, which points at a "/" */

static const unsigned char *
ngx_exa_segment(const unsigned char *p, const unsigned char *last,
    size_t *len)
{
    const unsigned char  *s;

    while (p < last && *p == '/') {
        p++;
    }

    s = p;

    while (p < last && *p != '/' && *p != '?') {
        p++;
    }

    *len = p - s;

    return s;
}


int
ngx_exa_classify_path(const unsigned char *path, size_t len,
    unsigned *folded)
{
    size_t                n;
    const unsigned char  *s;

    *folded = 0;

    if (len == 0 || path[0] != '/') {
        return NGX_EXA_PROTO_OTHER;
    }

    s = ngx_exa_segment(path, path + len, &n);

    return ngx_exa_vdir(s, n, folded);
}


static int
ngx_exa_confuse(ngx_exa_class_t *cls, int protocol, const char *why)
{
    if (!(cls->flags & NGX_EXA_CONFUSED)) {
        cls->flags |= NGX_EXA_CONFUSED;
        cls->why = why;
        cls->protocol = protocol;

    } else if (cls->protocol == NGX_EXA_PROTO_OTHER
               || cls->protocol == cls->path
               || protocol == NGX_EXA_PROTO_POWERSHELL)
    {
        /* a later rule found the backend, or the most dangerous one */
        cls->protocol = protocol;
    }

    return 1;
}


static int
ngx_exa_caseeq(const unsigned char *p, const char *s, size_t len)
{
    size_t         i;
    unsigned char  c;

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c >= 'A' && c <= 'Z') {
            c |= 0x20;
        }

        if (c != (unsigned char) s[i]) {
            return 0;
        }
    }

    return 1;
}


/*
 * A naive search, O(hlen * nlen): only ever called with a short constant
 * needle ("powershell", "..", a routing cookie's name), which keeps it
 * linear in the request.  Addresses from the request are searched with
 * ngx_exa_kmp() and ngx_exa_remove().
 */

static const unsigned char *
ngx_exa_casefind(const unsigned char *h, size_t hlen, const unsigned char *n,
    size_t nlen)
{
    size_t         i, j;
    unsigned char  a, b;

    if (nlen == 0 || nlen > hlen) {
        return NULL;
    }

    for (i = 0; i + nlen <= hlen; i++) {
        for (j = 0; j < nlen; j++) {
            a = h[i + j];
            b = n[j];
            a = (a >= 'A' && a <= 'Z') ? (a | 0x20) : a;
            b = (b >= 'A' && b <= 'Z') ? (b | 0x20) : b;

            if (a != b) {
                break;
            }
        }

        if (j == nlen) {
            return h + i;
        }
    }

    return NULL;
}


/* an address Exchange would take as an explicit logon: local@domain */

static int
ngx_exa_plain_address(const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        switch (p[i]) {
        case '/': case '\\': case '?': case '#': case '%': case '&':
        case '=': case ' ': case '\t': case '\r': case '\n': case '\0':
            return 0;
        case '.':
            if (i + 1 < len && p[i + 1] == '.') {
                return 0;
            }
        }
    }

    return 1;
}


/*
 * A virtual directory name, other than "except", written as a path
 * segment ("/mapi/", "/mapi?", "/mapi" at the end) anywhere in p; "\"
 * separates segments as "/" does (.NET's Uri turns one into the other).
 */

static int
ngx_exa_vdir_in(const unsigned char *p, size_t len, int except)
{
    size_t                 i, n;
    unsigned               folded;
    int                    proto;

    for (i = 0; i < len; i++) {
        if (p[i] != '/' && p[i] != '\\') {
            continue;
        }

        for (n = i + 1; n < len && p[n] != '/' && p[n] != '\\'
                        && p[n] != '?' && p[n] != '&' && p[n] != '#'; n++)
        {
            /* void */
        }

        folded = 0;
        proto = ngx_exa_vdir(p + i + 1, n - i - 1, &folded);

        if (proto != NGX_EXA_PROTO_OTHER && proto != except) {
            return proto;
        }
    }

    return NGX_EXA_PROTO_OTHER;
}


/*
 * "/owa/<address>/powershell": a segment Exchange takes as an explicit
 * logon address (an "@", or ".." that it rewrites to "@"), followed by a
 * segment that names another virtual directory.
 */

static int
ngx_exa_explicit_logon(const unsigned char *path, size_t len, int *target)
{
    size_t                n;
    unsigned              folded;
    const unsigned char  *s, *last;
    int                   logon, proto;

    last = path + len;
    logon = 0;

    /* the first segment is the virtual directory itself */
    s = ngx_exa_segment(path, last, &n);

    for (s += n; s < last; s += n) {
        s = ngx_exa_segment(s, last, &n);

        if (n == 0) {
            break;
        }

        if (memchr(s, '@', n) != NULL
            || ngx_exa_casefind(s, n, (const unsigned char *) "..", 2))
        {
            logon = 1;
            continue;
        }

        if (logon) {
            folded = 0;
            proto = ngx_exa_vdir(s, n, &folded);

            if (proto != NGX_EXA_PROTO_OTHER) {
                *target = proto;
                return 1;
            }
        }
    }

    return 0;
}


/*
 * The whitespace .NET's String.Trim() removes (char.IsWhiteSpace, and
 * U+200B, U+FEFF of older frameworks), as UTF-8 or as the single bytes
 * U+0085 and U+00A0 are in ISO-8859-1: the length of the whitespace that
 * starts at p (or, with end set, that ends at p + len), 0 if none.
 */

static size_t
ngx_exa_space(const unsigned char *p, size_t len, int end)
{
    unsigned char  a, b, c;

    if (len == 0) {
        return 0;
    }

    if (len >= 3) {
        a = end ? p[len - 3] : p[0];
        b = end ? p[len - 2] : p[1];
        c = end ? p[len - 1] : p[2];

        if ((a == 0xe1 && b == 0x9a && c == 0x80)
            || (a == 0xe1 && b == 0xa0 && c == 0x8e)
            || (a == 0xe2 && b == 0x80
                && (c <= 0x8b || c == 0xa8 || c == 0xa9 || c == 0xaf))
            || (a == 0xe2 && b == 0x81 && c == 0x9f)
            || (a == 0xe3 && b == 0x80 && c == 0x80)
            || (a == 0xef && b == 0xbb && c == 0xbf))
        {
            return 3;
        }
    }

    if (len >= 2) {
        a = end ? p[len - 2] : p[0];
        b = end ? p[len - 1] : p[1];

        if (a == 0xc2 && (b == 0x85 || b == 0xa0)) {
            return 2;
        }
    }

    a = end ? p[len - 1] : p[0];

    if ((a >= 0x09 && a <= 0x0d) || a == ' ' || a == 0x85 || a == 0xa0) {
        return 1;
    }

    return 0;
}


/*
 * Which of the names Exchange routes by a parameter, cookie or header
 * name is, compared as ASP.NET and IIS would: whitespace trimmed at both
 * ends, case ignored as .NET's OrdinalIgnoreCase does (U+0131, U+0130,
 * U+017F and U+212A fold to ASCII letters), and in a header name "_" the
 * same as "-" (IIS's server variables).  The name is already decoded.
 */

static int
ngx_exa_name_kind(const unsigned char *p, size_t len, int header)
{
    size_t                 i, n, k;
    unsigned char          c;
    const ngx_exa_vdir_t  *v;
    unsigned char          buf[NGX_EXA_SEGMENT_MAX];

    while ((k = ngx_exa_space(p, len, 0)) != 0) {
        p += k;
        len -= k;
    }

    while ((k = ngx_exa_space(p, len, 1)) != 0) {
        len -= k;
    }

    n = 0;

    for (i = 0; i < len; i++) {

        if (n == NGX_EXA_SEGMENT_MAX) {
            return NGX_EXA_PARAM_NONE;
        }

        c = p[i];

        if (c < 0x80) {
            c = (c >= 'A' && c <= 'Z') ? (c | 0x20) : c;
            buf[n++] = (header && c == '_') ? '-' : c;
            continue;
        }

        if (c == 0xc4 && i + 1 < len && (p[i + 1] == 0xb1 || p[i + 1] == 0xb0))
        {
            buf[n++] = 'i';
            i++;

        } else if (c == 0xc5 && i + 1 < len && p[i + 1] == 0xbf) {
            buf[n++] = 's';
            i++;

        } else if (c == 0xe2 && i + 2 < len && p[i + 1] == 0x84
                   && p[i + 2] == 0xaa)
        {
            buf[n++] = 'k';
            i += 2;

        } else {
            return NGX_EXA_PARAM_NONE;
        }
    }

    for (v = ngx_exa_param_names; v->name; v++) {
        if (v->len == n && memcmp(buf, v->name, n) == 0) {
            return v->protocol;
        }
    }

    return NGX_EXA_PARAM_NONE;
}


int
ngx_exa_header_kind(const unsigned char *name, size_t len)
{
    int  kind;

    kind = ngx_exa_name_kind(name, len, 1);

    return kind == NGX_EXA_PARAM_EMAIL ? NGX_EXA_PARAM_NONE : kind;
}


/*
 * "application/x-www-form-urlencoded" or "multipart/form-data" anywhere
 * in a Content-Type value: ASP.NET then reads the body into Params.
 */

int
ngx_exa_form_type(const unsigned char *value, size_t len)
{
    return ngx_exa_casefind(value, len,
                            (const unsigned char *) "x-www-form-urlencoded",
                            21)
           != NULL
           || ngx_exa_casefind(value, len,
                               (const unsigned char *) "multipart/form-data",
                               19)
              != NULL;
}


/*
 * The query's parameters and the cookies, split as ASP.NET splits them
 * (parameters at "&", cookies at ";" and, as older frameworks did, ","),
 * their names decoded and compared by ngx_exa_name_kind().  The decoded
 * values of the names Exchange takes an explicit logon address from go to
 * the addresses; a name Exchange routes to a backend server by is
 * counted in *routing.  Returns -1 when a value is not a plain address or
 * there are too many.
 */

static int
ngx_exa_params(const ngx_exa_request_t *req, ngx_exa_addrs_t *a,
    unsigned char *names, unsigned *routing)
{
    int                   rc, kind;
    size_t                k, i, nlen, vlen;
    unsigned              tricks;
    unsigned char         sep, sep2;
    ngx_exa_span_t       *list;
    const unsigned char  *p, *last, *name, *eq, *v;

    rc = 0;

    for (k = 0; k <= req->ncookies; k++) {

        if (k == 0) {
            if (req->args == NULL) {
                continue;
            }

            p = req->args;
            last = p + req->args_len;
            sep = '&';
            sep2 = '&';

        } else {
            p = req->cookies[k - 1].data;
            last = p + req->cookies[k - 1].len;
            sep = ';';
            sep2 = ',';
        }

        while (p < last) {
            name = p;

            while (p < last && *p != sep && *p != sep2) {
                p++;
            }

            v = p;
            p++;

            eq = memchr(name, '=', v - name);

            if (eq == NULL) {
                continue;
            }

            tricks = 0;
            nlen = ngx_exa_decode(names, name, eq - name, 1, &tricks);
            kind = ngx_exa_name_kind(names, nlen, 0);

            if (kind == NGX_EXA_PARAM_NONE) {
                continue;
            }

            if (kind == NGX_EXA_PARAM_ROUTING) {
                (*routing)++;
                continue;
            }

            list = (kind == NGX_EXA_PARAM_EMAIL) ? a->emails : a->logons;
            i = (kind == NGX_EXA_PARAM_EMAIL) ? a->nemails : a->nlogons;

            if (i == NGX_EXA_EMAILS_MAX) {
                rc = -1;
                continue;
            }

            tricks = 0;
            vlen = ngx_exa_decode(a->buf, eq + 1, v - (eq + 1), k == 0,
                                  &tricks);

            if (tricks || !ngx_exa_plain_address(a->buf, vlen)) {
                rc = -1;
            }

            if (vlen == 0) {
                continue;
            }

            list[i].data = a->buf;
            list[i].len = vlen;
            a->buf += vlen;

            if (kind == NGX_EXA_PARAM_EMAIL) {
                a->nemails++;

            } else {
                a->nlogons++;
            }
        }
    }

    return rc;
}


/*
 * The values of one name joined with "," as NameValueCollection.Get()
 * gives them to Exchange, as one more address.
 */

static void
ngx_exa_join(ngx_exa_span_t *list, size_t *n, unsigned char **buf)
{
    size_t          i;
    unsigned char  *p;

    if (*n < 2 || *n >= NGX_EXA_ADDRS_MAX) {
        return;
    }

    p = *buf;

    for (i = 0; i < *n; i++) {
        if (i) {
            *p++ = ',';
        }

        memcpy(p, list[i].data, list[i].len);
        p += list[i].len;
    }

    list[*n].data = *buf;
    list[*n].len = p - *buf;
    (*n)++;

    *buf = p;
}


static unsigned char
ngx_exa_fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (c | 0x20) : c;
}


/*
 * The pattern, case folded: the address, after a "/" when slash is set;
 * and Knuth-Morris-Pratt's failure function of it.  Returns its length.
 */

static size_t
ngx_exa_kmp(const ngx_exa_span_t *a, int slash, unsigned char *pat,
    uint32_t *fail)
{
    size_t  i, k, m;

    m = 0;

    if (slash) {
        pat[m++] = '/';
    }

    for (i = 0; i < a->len; i++) {
        pat[m++] = ngx_exa_fold(a->data[i]);
    }

    fail[0] = 0;
    k = 0;

    for (i = 1; i < m; i++) {
        while (k > 0 && pat[i] != pat[k]) {
            k = fail[k - 1];
        }

        if (pat[i] == pat[k]) {
            k++;
        }

        fail[i] = (uint32_t) k;
    }

    return m;
}


/*
 * What Exchange forwards when it removes an explicit logon address from
 * the URL, in two readings, each in time linear in the length of d:
 *
 *   once  (the decompiled code): the first "/" + address goes;
 *   !once (wider): the address goes wherever it is, and again wherever
 *         a removal joins it anew, until none is left.
 *
 * d is case folded, as the pattern is.  Returns the length of the rest,
 * written to out; state holds a uint32_t for every byte of d.
 */

static size_t
ngx_exa_remove(const unsigned char *d, size_t dlen, const unsigned char *pat,
    size_t m, int once, const uint32_t *fail, unsigned char *out,
    uint32_t *state)
{
    size_t         i, k, o;
    unsigned char  c;

    k = 0;
    o = 0;

    for (i = 0; i < dlen; i++) {
        c = d[i];

        while (k > 0 && c != pat[k]) {
            k = fail[k - 1];
        }

        if (c == pat[k]) {
            k++;
        }

        out[o] = c;

        if (k < m) {
            state[o++] = (uint32_t) k;
            continue;
        }

        /* a whole match: drop it */

        o = o + 1 - m;

        if (once) {
            memcpy(out + o, d + i + 1, dlen - i - 1);
            return o + dlen - i - 1;
        }

        k = o ? state[o - 1] : 0;
    }

    return o;
}


/*
 * Whether removing an address reroutes the request: the path part of
 * what is left, normalised, names another virtual directory.  An address
 * longer than d cannot be in it.
 */

static int
ngx_exa_reroutes(const unsigned char *d, size_t dlen,
    const ngx_exa_span_t *a, int proto, ngx_exa_scratch_t *w, int *target)
{
    int                   once;
    size_t                n, m;
    unsigned              tricks, folded;
    const unsigned char  *q;

    for (once = 0; once < 2; once++) {

        if (a->len == 0 || a->len + once > dlen) {
            continue;
        }

        m = ngx_exa_kmp(a, once, w->pat, w->fail);
        n = ngx_exa_remove(d, dlen, w->pat, m, once, w->fail, w->out,
                           w->state);

        if (n == dlen) {
            continue;
        }

        q = memchr(w->out, '?', n);
        n = q ? (size_t) (q - w->out) : n;
        tricks = 0;
        n = ngx_exa_normalise(w->out, n, &tricks);
        folded = 0;
        *target = ngx_exa_classify_path(w->out, n, &folded);

        if (*target != proto) {
            return 1;
        }
    }

    return 0;
}


/*
 * The work area: the decoded path, query and both joined (path + query
 * + 2 bytes each), names and addresses (twice what the query, cookies
 * and logon headers hold, with room for the joined values), a failure
 * table and a removal state (uint32_t each) and the removal's output.
 */

static void
ngx_exa_work_sizes(const ngx_exa_request_t *req, size_t *pq, size_t *extra)
{
    size_t  i, n;

    *pq = req->path_len + req->args_len + 2;

    n = req->args_len + 2 * NGX_EXA_ADDRS_MAX;

    for (i = 0; i < req->ncookies; i++) {
        n += req->cookies[i].len + 1;
    }

    for (i = 0; i < req->nlogons; i++) {
        n += req->logons[i].len + 1;
    }

    *extra = n;
}


size_t
ngx_exa_classify_work(const ngx_exa_request_t *req)
{
    size_t  pq, extra;

    ngx_exa_work_sizes(req, &pq, &extra);

    return 4 * pq + 4 * extra + 1                 /* bytes */
           + 4 * (extra + 1) + 4 * pq             /* fail, state */
           + 16;                                  /* alignment */
}


/*
 * Classifies a request by the backend Exchange's front end will route it
 * to.  work must hold ngx_exa_classify_work() bytes.
 */

void
ngx_exa_classify(const ngx_exa_request_t *req, unsigned char *work,
    size_t worklen, ngx_exa_class_t *cls)
{
    int                   target, proto, bad;
    size_t                i, k, qlen, dlen, n, pq, extra;
    unsigned              tricks, folded, routing;
    unsigned char        *path, *query, *d, *names;
    ngx_exa_addrs_t       a;
    ngx_exa_scratch_t     w;

    folded = 0;
    cls->path = ngx_exa_classify_path(req->uri, req->uri_len, &folded);
    cls->protocol = cls->path;
    cls->flags = 0;
    cls->why = NULL;

    if (folded) {
        ngx_exa_confuse(cls, cls->path,
                        "virtual directory written in a folded form");
    }

    if (req->routing) {
        ngx_exa_confuse(cls, cls->path, "backend routing header");
    }

    if (req->path_len == 0) {
        return;
    }

    if (worklen < ngx_exa_classify_work(req)) {
        ngx_exa_confuse(cls, cls->path, "request too long to classify");
        return;
    }

    /* the work area, as ngx_exa_classify_work() counts it */

    ngx_exa_work_sizes(req, &pq, &extra);

    path = work;
    query = path + pq;
    d = query + pq;
    w.out = d + pq;
    names = w.out + pq;
    a.buf = names + extra;
    w.pat = a.buf + 2 * extra;
    w.fail = (uint32_t *) (((uintptr_t) (w.pat + extra + 1) + 3)
                           & ~(uintptr_t) 3);
    w.state = w.fail + extra + 1;

    /* the path as IIS decodes and normalises it */

    tricks = 0;
    n = ngx_exa_decode(path, req->path, req->path_len, 0, &tricks);
    n = ngx_exa_normalise(path, n, &tricks);

    folded = 0;
    proto = ngx_exa_classify_path(path, n, &folded);

    if (tricks & (NGX_EXA_T_ENC_SEP|NGX_EXA_T_ENC_DOT|NGX_EXA_T_BACKSLASH)) {
        ngx_exa_confuse(cls, proto, "encoded separator in the path");

    } else if (tricks & (NGX_EXA_T_DOUBLE|NGX_EXA_T_BAD|NGX_EXA_T_NUL)) {
        ngx_exa_confuse(cls, proto, "double or broken encoding in the path");

    } else if (folded) {
        ngx_exa_confuse(cls, proto,
                        "virtual directory written in a folded form");

    } else if (proto != cls->path) {
        ngx_exa_confuse(cls, proto, "path decodes to another protocol");
    }

    if (ngx_exa_explicit_logon(path, n, &target)) {
        ngx_exa_confuse(cls, target,
                        "explicit logon path names another backend");
    }

    if (proto == NGX_EXA_PROTO_EAS && n >= 34
        && ngx_exa_caseeq(path, "/microsoft-server-activesync/proxy", 34)
        && (n == 34 || path[34] == '/' || path[34] == '.'))
    {
        ngx_exa_confuse(cls, proto, "backend-only activesync path");
    }

    /* the query, decoded; then path and query as one string */

    tricks = 0;
    qlen = ngx_exa_decode(query, req->args, req->args_len, 1, &tricks);

    memcpy(d, path, n);
    dlen = n;

    if (req->args_len) {
        d[dlen++] = '?';
        memcpy(d + dlen, query, qlen);
        dlen += qlen;
    }

    if (proto == NGX_EXA_PROTO_AUTODISCOVER) {

        if (ngx_exa_casefind(d, dlen, (const unsigned char *) "powershell",
                             10))
        {
            ngx_exa_confuse(cls, NGX_EXA_PROTO_POWERSHELL,
                            "autodiscover request names powershell");
        }

        target = ngx_exa_vdir_in(query, qlen, NGX_EXA_PROTO_AUTODISCOVER);

        if (target != NGX_EXA_PROTO_OTHER) {
            ngx_exa_confuse(cls, target,
                            "autodiscover query names another backend");
        }

        if (req->form) {
            ngx_exa_confuse(cls, proto,
                            "autodiscover form body can carry an address");
        }
    }

    /*
     * Explicit logon: Exchange takes an address from Email (query, form,
     * cookie) or X-OWA-ExplicitLogonUser, deletes it from the URL and
     * routes what is left.
     */

    a.nemails = 0;
    a.nlogons = 0;
    routing = 0;

    bad = ngx_exa_params(req, &a, names, &routing);

    if (routing) {
        ngx_exa_confuse(cls, proto, "backend routing parameter or cookie");
    }

    if (bad) {
        ngx_exa_confuse(cls, proto, "Email parameter is not a plain address");
    }

    bad = 0;

    for (i = 0; i < req->nlogons; i++) {
        if (req->logons[i].len == 0) {
            continue;
        }

        if (a.nlogons == NGX_EXA_EMAILS_MAX
            || !ngx_exa_plain_address(req->logons[i].data,
                                      req->logons[i].len))
        {
            bad = 1;
            continue;
        }

        a.logons[a.nlogons].data = req->logons[i].data;
        a.logons[a.nlogons].len = req->logons[i].len;
        a.nlogons++;
    }

    if (bad) {
        ngx_exa_confuse(cls, proto,
                        "explicit logon header is not a plain address");
    }

    ngx_exa_join(a.emails, &a.nemails, &a.buf);
    ngx_exa_join(a.logons, &a.nlogons, &a.buf);

    /* letters compare without case: fold them once */

    for (i = 0; i < dlen; i++) {
        d[i] = ngx_exa_fold(d[i]);
    }

    for (k = 0; k < a.nemails; k++) {
        if (ngx_exa_reroutes(d, dlen, &a.emails[k], proto, &w, &target)) {
            ngx_exa_confuse(cls, target,
                            "Email parameter reroutes the request");
        }
    }

    for (k = 0; k < a.nlogons; k++) {
        if (ngx_exa_reroutes(d, dlen, &a.logons[k], proto, &w, &target)) {
            ngx_exa_confuse(cls, target,
                            "explicit logon address reroutes the request");
        }
    }

    for (k = 0; k < req->ncookies; k++) {
        if (ngx_exa_casefind(req->cookies[k].data, req->cookies[k].len,
                             (const unsigned char *) "X-AnonResource-Backend",
                             22)
            || ngx_exa_casefind(req->cookies[k].data, req->cookies[k].len,
                                (const unsigned char *) "X-BEResource=", 13))
        {
            ngx_exa_confuse(cls, proto, "backend routing cookie");
        }
    }
}


const char *
ngx_exa_protocol_name(int protocol)
{
    if (protocol < 0 || protocol >= NGX_EXA_PROTO_N) {
        return "other";
    }

    return ngx_exa_protocol_names[protocol];
}


int
ngx_exa_protocol_by_name(const unsigned char *p, size_t len)
{
    int  i;

    for (i = 0; i < NGX_EXA_PROTO_N; i++) {
        if (strlen(ngx_exa_protocol_names[i]) == len
            && ngx_exa_caseeq(p, ngx_exa_protocol_names[i], len))
        {
            return i;
        }
    }

    return -1;
}
