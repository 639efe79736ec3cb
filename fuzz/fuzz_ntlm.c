/*
 * libFuzzer harness for the NTLM decoder, on raw (decoded) bytes.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_exa_credential.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char   *msg;
    ngx_exa_cred_t   cred;

    if (size == 0) {
        return 0;
    }

    msg = malloc(size);
    if (msg == NULL) {
        return 0;
    }

    memcpy(msg, data, size);

    if (ngx_exa_ntlm_parse(msg, size, &cred) == NGX_EXA_CRED_USER
        && (cred.user_len == 0 || cred.user_len > NGX_EXA_NAME_MAX
            || cred.domain_len > NGX_EXA_NAME_MAX))
    {
        abort();
    }

    free(msg);

    return 0;
}
