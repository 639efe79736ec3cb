
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <string.h>

#include "ngx_exa_credential.h"


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


/* as ngx_exa_credential.c says it */

static int
ngx_exa_jwt_unidentified(ngx_exa_cred_t *cred, const char *detail)
{
    cred->status = NGX_EXA_CRED_UNIDENTIFIED;
    cred->detail = detail;
    cred->domain_len = 0;
    cred->user_len = 0;

    return NGX_EXA_CRED_UNIDENTIFIED;
}


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
        return ngx_exa_jwt_unidentified(cred, "not a JWT");
    }

    seg[0] = dot1 - tok;
    seg[1] = dot2 - dot1 - 1;
    seg[2] = tok + len - dot2 - 1;

    if (seg[0] == 0 || seg[1] == 0) {
        return ngx_exa_jwt_unidentified(cred, "not a JWT");
    }

    if (seg[2] == 0) {
        return ngx_exa_jwt_unidentified(cred, "unsigned JWT");
    }

    /* every segment is base64url without padding */

    if (ngx_exa_base64_decode(work, tok, seg[0], 1) == (size_t) -1
        || ngx_exa_base64_decode(work, dot2 + 1, seg[2], 1) == (size_t) -1)
    {
        return ngx_exa_jwt_unidentified(cred, "bad base64url in JWT");
    }

    n = ngx_exa_base64_decode(work, dot1 + 1, seg[1], 1);

    if (n == (size_t) -1) {
        return ngx_exa_jwt_unidentified(cred, "bad base64url in JWT");
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
        return ngx_exa_jwt_unidentified(cred, "bad JSON in JWT");
    }

    ngx_exa_json_ws(&js);

    if (js.p != js.last) {
        return ngx_exa_jwt_unidentified(cred, "bad JSON in JWT");
    }

    for (segn = 0; segn < js.nclaims; segn++) {
        if (js.found[segn] == 0) {
            continue;
        }

        if (js.found[segn] < 0 || js.len[segn] == 0) {
            return ngx_exa_jwt_unidentified(cred,
                                            "JWT name claim is not a name");
        }

        memcpy(cred->user, values[segn], js.len[segn]);
        cred->user_len = js.len[segn];
        cred->status = NGX_EXA_CRED_USER;
        cred->detail = "bearer";

        return NGX_EXA_CRED_USER;
    }

    return ngx_exa_jwt_unidentified(cred, "no name claim in JWT");
}
