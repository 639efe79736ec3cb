/*
 * libFuzzer harness for the Authorization header parser (scheme dispatch,
 * base64, Basic) and the name normalisation of what it finds.  The fast
 * paths of NTLM tokens and of Basic (ngx_exa_credential_parse_fast() too)
 * answer as decoding them whole does, and so does the parse with the
 * scheme read beforehand.  The base64 check answers the same 32
 * characters at a time as 16.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_exa_credential.h"
#include "ngx_exa_name.h"
#include "cred.h"


static void
ngx_exa_check_both(const unsigned char *tok, size_t len)
{
    int     wide;
    size_t  a, b, ca, cb;

    ca = 0;
    cb = 0;
    a = ngx_exa_base64_check(tok, len, &ca);

    wide = ngx_exa_base64_wide;
    ngx_exa_base64_wide = 0;
    b = ngx_exa_base64_check(tok, len, &cb);
    ngx_exa_base64_wide = wide;

    if (a != b || (a != (size_t) -1 && ca != cb)) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  rc;
    size_t               worklen, klen, i;
    unsigned char       *work, *value;
    ngx_exa_cred_t       cred, full, fast;
    unsigned char        key[NGX_EXA_KEY_MAX];
    ngx_exa_str_t        ours = { 7, (const unsigned char *) "example" };
    ngx_exa_name_conf_t  nc = { &ours, 1 };

    /* exact-size copies, so that ASan sees any read past the end */
    value = malloc(size ? size : 1);
    worklen = size / 4 * 3 + 3;
    work = malloc(worklen);

    if (value == NULL || work == NULL) {
        free(value);
        free(work);
        return 0;
    }

    memcpy(value, data, size);

    /*
     * the base64 check 32 characters at a time (AVX2) and 16, on the
     * value and on what follows its first space
     */

    for (i = 0; i < size && value[i] != ' '; i++) { /* void */ }

    ngx_exa_check_both(value, size);

    if (i < size) {
        ngx_exa_check_both(value + i + 1, size - i - 1);
    }

    if (ngx_exa_credential_parse_full(NULL, value, size, work, worklen,
                                      &full)
        != ngx_exa_credential_parse(NULL, value, size, work, worklen, &cred)
        || !ngx_exa_cred_same(&cred, &full))
    {
        abort();
    }

    /* the scheme read beforehand, as the handler does */

    if (ngx_exa_credential_parse_as(NULL, ngx_exa_scheme_of(value, size),
                                    value, size, work, worklen, &full)
        != cred.status
        || !ngx_exa_cred_same(&cred, &full))
    {
        abort();
    }

    /*
     * Basic as the handler reads it, the user name alone decoded: when it
     * answers, what decoding the token whole answers; whatever it answers,
     * nothing past the name that decoding the token whole found
     */

    memset(&fast, 0x5a, sizeof(fast));
    rc = ngx_exa_credential_parse_fast(ngx_exa_scheme_of(value, size), value,
                                       size, &fast);

    if (rc != -1
        && (cred.scheme != NGX_EXA_AUTH_BASIC || rc != cred.status
            || !ngx_exa_cred_same(&fast, &cred)))
    {
        abort();
    }

    if (cred.status == NGX_EXA_CRED_USER) {
        for (i = cred.user_len + 1; i < sizeof(fast.user); i++) {
            if (fast.user[i] != 0x5a && fast.user[i] != 0) {
                abort();
            }
        }
    }

    if (cred.status == NGX_EXA_CRED_USER) {
        if (cred.user_len == 0 || cred.user_len > NGX_EXA_NAME_MAX
            || cred.domain_len > NGX_EXA_NAME_MAX)
        {
            abort();
        }

        if (ngx_exa_name_key(&nc, cred.domain, cred.domain_len, cred.user,
                             cred.user_len, key, &klen) == NGX_EXA_NAME_OK
            && (klen == 0 || klen > NGX_EXA_KEY_MAX))
        {
            abort();
        }
    }

    free(value);
    free(work);

    return 0;
}
