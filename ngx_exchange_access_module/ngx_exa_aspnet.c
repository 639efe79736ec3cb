
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


/*
 * How ASP.NET reads the names Exchange routes by (query parameters,
 * cookies, headers), and how Exchange removes an explicit logon address
 * from the URL before it routes what is left.  No nginx dependency.
 */


#include <string.h>

#include "ngx_exa_classify_int.h"


static size_t ngx_exa_space(const unsigned char *p, size_t len, int end);
static int ngx_exa_name_kind(const unsigned char *p, size_t len,
    int header);
static size_t ngx_exa_kmp(const ngx_exa_span_t *a, int slash,
    unsigned char *pat, uint32_t *fail);
static size_t ngx_exa_remove(const unsigned char *d, size_t dlen,
    const unsigned char *pat, size_t m, int once, const uint32_t *fail,
    unsigned char *out, uint32_t *state);


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


/* an address Exchange would take as an explicit logon: local@domain */

int
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

int
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

void
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

int
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
 * Whether a query names nothing Exchange routes by, read the short way:
 * every parameter name is plain (no "%", "+", blank, control or non-ASCII
 * byte, so that decoding and trimming leave it as it is) and none is a
 * name of ngx_exa_param_names.  0 also when the query must be read as
 * ngx_exa_params() reads it.
 */

int
ngx_exa_query_plain(const unsigned char *p, size_t len)
{
    const unsigned char  *last, *name, *eq;

    last = p + len;

    while (p < last) {
        name = p;
        eq = NULL;

        for ( /* void */ ; p < last && *p != '&'; p++) {

            if (eq != NULL) {
                continue;
            }

            if (*p == '=') {
                eq = p;
                continue;
            }

            if (*p <= ' ' || *p >= 0x7f || *p == '%' || *p == '+') {
                return 0;
            }
        }

        p++;

        if (eq != NULL && eq - name >= 5 && eq - name <= 23
            && ngx_exa_name_kind(name, eq - name, 0) != NGX_EXA_PARAM_NONE)
        {
            return 0;
        }
    }

    return 1;
}
