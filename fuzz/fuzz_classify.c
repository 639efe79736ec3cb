/*
 * libFuzzer harness for the classifier.  Input: three fields separated by
 * newlines (path, query, cookie); the first byte's low bit says "form".
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_exa_classify.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t              n, worklen;
    const uint8_t      *p, *last, *f[3];
    size_t              flen[3];
    unsigned char      *work;
    ngx_exa_str_t       cookie;
    ngx_exa_class_t     cls;
    ngx_exa_request_t   req;
    int                 i;

    if (size == 0) {
        return 0;
    }

    memset(&req, 0, sizeof(req));
    req.form = data[0] & 1;

    p = data + 1;
    last = data + size;

    for (i = 0; i < 3; i++) {
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

    if (flen[2]) {
        cookie.data = f[2];
        cookie.len = flen[2];
        req.cookies = &cookie;
        req.ncookies = 1;
    }

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

    /* one byte short must never overrun either */
    ngx_exa_classify(&req, work, worklen - 1, &cls);

    free(work);

    return 0;
}
