
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <stdint.h>
#include <string.h>

#include "ngx_exa_classify_int.h"
#include "ngx_exa_assert.h"


static int ngx_exa_confuse(ngx_exa_class_t *cls, int protocol,
    const char *why);
static int ngx_exa_vdir_in(const unsigned char *p, size_t len, int except);
static int ngx_exa_explicit_logon(const unsigned char *path, size_t len,
    int *target);
static void ngx_exa_work_sizes(const ngx_exa_request_t *req, size_t *pq,
    size_t *extra);


static const char  *ngx_exa_protocol_names[] = {
    "other", "mapi", "rpc", "ews", "eas", "owa", "ecp", "oab",
    "autodiscover", "powershell"
};

NGX_EXA_ASSERT(protocol_names,
               NGX_EXA_NELTS(ngx_exa_protocol_names) == NGX_EXA_PROTO_N);


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


/*
 * The fast path: the same answer as ngx_exa_classify() for the requests
 * most clients send, read in one pass over the path and the query, with
 * no copy and no work area.  A plain path (ngx_exa_path_plain()), a query
 * whose names Exchange does not route by (ngx_exa_query_plain()), no
 * cookie, no X-OWA-ExplicitLogonUser and no routing header: the decoding,
 * the normalisation and the address removal of ngx_exa_classify() would
 * change nothing.  Returns 1 with cls set, or 0: the request needs
 * ngx_exa_classify().
 */

int
ngx_exa_classify_fast(const ngx_exa_request_t *req, ngx_exa_class_t *cls)
{
    int                   proto, path;
    size_t                n;
    const unsigned char  *s;

    if (req->routing || req->ncookies || req->nlogons
        || !ngx_exa_path_plain(req->path, req->path_len, &n))
    {
        return 0;
    }

    proto = (n == NGX_EXA_NO_VDIR) ? NGX_EXA_PROTO_OTHER
                                   : ngx_exa_vdir_plain(req->path + 1, n);

    /* nginx's normalised path: the same bytes, unless nginx rewrote it */

    if (req->uri_len == req->path_len
        && (req->uri == req->path
            || memcmp(req->uri, req->path, req->path_len) == 0))
    {
        path = proto;

    } else if (req->uri_len == 0 || req->uri[0] != '/') {
        path = NGX_EXA_PROTO_OTHER;

    } else {
        s = ngx_exa_segment(req->uri, req->uri + req->uri_len, &n);

        if (!ngx_exa_path_plain(s - 1, n + 1, &n)) {
            return 0;
        }

        path = (n == NGX_EXA_NO_VDIR) ? NGX_EXA_PROTO_OTHER
                                      : ngx_exa_vdir_plain(s, n);
    }

    if (req->args_len
        && (req->args == NULL || proto == NGX_EXA_PROTO_AUTODISCOVER
            || !ngx_exa_query_plain(req->args, req->args_len)))
    {
        return 0;
    }

    cls->path = path;
    cls->protocol = path;
    cls->flags = 0;
    cls->why = NULL;

    if (proto != path) {
        ngx_exa_confuse(cls, proto, "path decodes to another protocol");
    }

    n = req->path_len;

    if (proto == NGX_EXA_PROTO_EAS && n >= 34
        && ngx_exa_caseeq(req->path, "/microsoft-server-activesync/proxy", 34)
        && (n == 34 || req->path[34] == '/' || req->path[34] == '.'))
    {
        ngx_exa_confuse(cls, proto, "backend-only activesync path");
    }

    if (proto == NGX_EXA_PROTO_AUTODISCOVER) {

        if (ngx_exa_casefind(req->path, n,
                             (const unsigned char *) "powershell", 10))
        {
            ngx_exa_confuse(cls, NGX_EXA_PROTO_POWERSHELL,
                            "autodiscover request names powershell");
        }

        if (req->form) {
            ngx_exa_confuse(cls, proto,
                            "autodiscover form body can carry an address");
        }
    }

    return 1;
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
