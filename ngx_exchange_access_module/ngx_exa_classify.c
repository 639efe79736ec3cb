
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <string.h>

#include "ngx_exa_classify.h"
#include "ngx_exa_assert.h"


#define NGX_EXA_SEGMENT_MAX     40
#define NGX_EXA_EMAILS_MAX      8


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
static size_t ngx_exa_emails(const ngx_exa_request_t *req,
    const unsigned char *query, size_t qlen, unsigned char **buf,
    unsigned char *end, ngx_exa_span_t *emails, int *bad);


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


/*
 * Percent-decodes once, as IIS does before it picks a virtual directory.
 * With form set, "+" is a space (query strings and form bodies).
 */

static size_t
ngx_exa_decode(unsigned char *dst, const unsigned char *src, size_t len,
    int form, unsigned *tricks)
{
    int            h, l;
    size_t         i, n;
    unsigned char  c;

    n = 0;

    for (i = 0; i < len; i++) {
        c = src[i];

        if (c == '+' && form) {
            c = ' ';

        } else if (c == '%') {
            h = (i + 2 < len) ? ngx_exa_hex(src[i + 1]) : -1;
            l = (i + 2 < len) ? ngx_exa_hex(src[i + 2]) : -1;

            if (h < 0 || l < 0) {
                *tricks |= NGX_EXA_T_BAD;

            } else {
                c = (unsigned char) (h * 16 + l);
                i += 2;

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
 * segment ("/mapi/", "/mapi?", "/mapi" at the end) anywhere in p.
 */

static int
ngx_exa_vdir_in(const unsigned char *p, size_t len, int except)
{
    size_t                 i, n;
    unsigned               folded;
    int                    proto;

    for (i = 0; i < len; i++) {
        if (p[i] != '/') {
            continue;
        }

        for (n = i + 1; n < len && p[n] != '/' && p[n] != '?'
                        && p[n] != '&' && p[n] != '#'; n++)
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
 * Collects the decoded values of the "Email" parameter from the query
 * string and of the "Email" cookies into buf; bad is set when one of them
 * is not a plain address.
 */

static size_t
ngx_exa_emails(const ngx_exa_request_t *req, const unsigned char *query,
    size_t qlen, unsigned char **buf, unsigned char *end,
    ngx_exa_span_t *emails, int *bad)
{
    size_t                i, k, n, vlen;
    unsigned              tricks;
    unsigned char         sep;
    const unsigned char  *p, *last, *name, *eq, *v;

    n = 0;

    for (k = 0; k <= req->ncookies; k++) {

        /* query parameters are separated by "&", cookies by ";" */

        if (k == 0) {
            if (query == NULL) {
                continue;
            }

            p = query;
            last = query + qlen;
            sep = '&';

        } else {
            p = req->cookies[k - 1].data;
            last = p + req->cookies[k - 1].len;
            sep = ';';
        }

        while (p < last) {
            name = p;

            while (p < last && *p != sep) {
                p++;
            }

            v = p;
            p++;

            while (name < v && (*name == ' ' || *name == '\t')) {
                name++;
            }

            eq = memchr(name, '=', v - name);

            if (eq == NULL || eq - name != 5
                || !ngx_exa_caseeq(name, "email", 5))
            {
                continue;
            }

            vlen = v - (eq + 1);

            if ((size_t) (end - *buf) < vlen || n == NGX_EXA_EMAILS_MAX) {
                *bad = 1;
                return n;
            }

            tricks = 0;
            i = ngx_exa_decode(*buf, eq + 1, vlen, k == 0, &tricks);

            if (!ngx_exa_plain_address(*buf, i) || tricks) {
                *bad = 1;
            }

            if (i) {
                emails[n].data = *buf;
                emails[n].len = i;
                n++;
                *buf += i;
            }
        }
    }

    return n;
}


size_t
ngx_exa_classify_work(const ngx_exa_request_t *req)
{
    size_t  i, n;

    n = 4 * (req->path_len + req->args_len) + 16;

    for (i = 0; i < req->ncookies; i++) {
        n += req->cookies[i].len;
    }

    return n;
}


/*
 * Classifies a request by the backend Exchange's front end will route it
 * to.  work must hold ngx_exa_classify_work() bytes.
 */

void
ngx_exa_classify(const ngx_exa_request_t *req, unsigned char *work,
    size_t worklen, ngx_exa_class_t *cls)
{
    int                   bad, target, proto;
    size_t                i, k, qlen, dlen, n, nemails;
    unsigned              tricks, folded;
    unsigned char        *path, *query, *d, *buf, *end;
    const unsigned char  *q, *hit;
    ngx_exa_span_t        emails[NGX_EXA_EMAILS_MAX];

    folded = 0;
    cls->path = ngx_exa_classify_path(req->uri, req->uri_len, &folded);
    cls->protocol = cls->path;
    cls->flags = 0;
    cls->why = NULL;

    if (folded) {
        ngx_exa_confuse(cls, cls->path,
                        "virtual directory written in a folded form");
    }

    if (req->path_len == 0) {
        return;
    }

    if (worklen < ngx_exa_classify_work(req)) {
        ngx_exa_confuse(cls, cls->path, "request too long to classify");
        return;
    }

    /* the path as IIS decodes and normalises it */

    path = work;
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

    query = path + n + 1;
    tricks = 0;
    qlen = ngx_exa_decode(query, req->args, req->args_len, 1, &tricks);

    d = query + qlen + 1;
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

    /* Email: Exchange deletes its value from the URL and routes the rest */

    buf = d + dlen + 1;
    end = work + worklen;
    bad = 0;

    nemails = ngx_exa_emails(req, req->args, req->args_len, &buf, end, emails,
                             &bad);

    if (bad) {
        ngx_exa_confuse(cls, proto, "Email parameter is not a plain address");
    }

    for (k = 0; k < nemails; k++) {
        for ( ;; ) {
            hit = ngx_exa_casefind(d, dlen, emails[k].data, emails[k].len);

            if (hit == NULL) {
                break;
            }

            i = hit - d;
            memmove(d + i, d + i + emails[k].len, dlen - i - emails[k].len);
            dlen -= emails[k].len;
        }
    }

    if (nemails) {
        q = memchr(d, '?', dlen);
        n = q ? (size_t) (q - d) : dlen;
        tricks = 0;
        n = ngx_exa_normalise(d, n, &tricks);
        target = ngx_exa_classify_path(d, n, &folded);

        if (target != proto) {
            ngx_exa_confuse(cls, target,
                            "Email parameter reroutes the request");
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
