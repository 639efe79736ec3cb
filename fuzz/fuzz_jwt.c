/*
 * libFuzzer harness for the JWT decoder (base64url and JSON).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_exa_credential.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t           worklen;
    unsigned char   *tok, *work;
    ngx_exa_cred_t   cred;

    worklen = size / 4 * 3 + 3;
    tok = malloc(size ? size : 1);
    work = malloc(worklen);

    if (tok == NULL || work == NULL) {
        free(tok);
        free(work);
        return 0;
    }

    memcpy(tok, data, size);

    if (ngx_exa_jwt_parse(NULL, tok, size, work, worklen, &cred)
        == NGX_EXA_CRED_USER
        && (cred.user_len == 0 || cred.user_len > NGX_EXA_NAME_MAX))
    {
        abort();
    }

    free(tok);
    free(work);

    return 0;
}
