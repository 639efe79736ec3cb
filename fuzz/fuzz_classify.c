/*
 * libFuzzer harness for the classifier.  Input: four fields separated by
 * newlines (path, query, cookie, X-OWA-ExplicitLogonUser value); the first
 * byte's low bit says "form", its next bit a backend routing header.  The
 * cookie field holds several Cookie headers separated by NUL bytes.  The
 * header kind and Content-Type helpers run on the fields too.  Wherever
 * the fast path answers, it must answer as the full path does, with
 * nginx's path the same as the raw one or not.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_exa_classify_int.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t              n, worklen, first[2];
    const uint8_t      *p, *last, *f[4], *c, *e;
    size_t              flen[4];
    unsigned char      *work;
    ngx_exa_str_t       cookies[8], logon;
    ngx_exa_class_t     cls, fast;
    ngx_exa_request_t   req;
    int                 i;

    if (size == 0) {
        return 0;
    }

    memset(&req, 0, sizeof(req));
    req.form = data[0] & 1;
    req.routing = (data[0] >> 1) & 1;

    p = data + 1;
    last = data + size;

    for (i = 0; i < 4; i++) {
        f[i] = p;
        while (p < last && *p != '\n') {
            p++;
        }
        flen[i] = p - f[i];
        if (p < last) {
            p++;
        }
    }

    /* nginx's view of the path is the path itself here */
    req.uri = f[0];
    req.uri_len = flen[0];
    req.path = f[0];
    req.path_len = flen[0];
    req.args = flen[1] ? f[1] : NULL;
    req.args_len = flen[1];

    for (c = f[2], e = f[2] + flen[2]; flen[2] && req.ncookies < 8; c++) {
        p = memchr(c, '\0', e - c);
        cookies[req.ncookies].data = c;
        cookies[req.ncookies].len = (p ? p : e) - c;
        req.ncookies++;

        if (p == NULL) {
            break;
        }

        c = p;
    }

    req.cookies = cookies;

    if (flen[3]) {
        logon.data = f[3];
        logon.len = flen[3];
        req.logons = &logon;
        req.nlogons = 1;
    }

    (void) ngx_exa_header_kind(f[3], flen[3]);
    (void) ngx_exa_form_type(f[2], flen[2]);

    worklen = ngx_exa_classify_work(&req);

    /* exactly the size asked for, so that ASan sees any overrun */
    work = malloc(worklen);
    if (work == NULL) {
        return 0;
    }

    ngx_exa_classify(&req, work, worklen, &cls);

    n = (size_t) cls.protocol;
    if (n >= NGX_EXA_PROTO_N || (cls.flags && cls.why == NULL)) {
        abort();
    }

    /* the short path's check, where it answers, answers as the scan */

    if (ngx_exa_path_short(f[0], flen[0], &first[0])
        && (!ngx_exa_path_scan(f[0], flen[0], &first[1])
            || first[0] != first[1]))
    {
        abort();
    }

    /* the fast path, where it answers, answers as the full path */

    if (ngx_exa_classify_fast(&req, &fast)
        && (fast.protocol != cls.protocol || fast.path != cls.path
            || fast.flags != cls.flags
            || (cls.flags && strcmp(fast.why, cls.why) != 0)))
    {
        abort();
    }

    /* and with nginx's path another one than the raw path */

    if (flen[0] > 1) {
        req.uri = f[0] + 1;
        req.uri_len = flen[0] - 1;

        if (ngx_exa_classify_fast(&req, &fast)) {
            ngx_exa_classify(&req, work, worklen, &cls);

            if (fast.protocol != cls.protocol || fast.path != cls.path
                || fast.flags != cls.flags
                || (cls.flags && strcmp(fast.why, cls.why) != 0))
            {
                abort();
            }
        }

        req.uri = f[0];
        req.uri_len = flen[0];
    }

    /* one byte short must never overrun either */
    ngx_exa_classify(&req, work, worklen - 1, &cls);

    free(work);

    return 0;
}
