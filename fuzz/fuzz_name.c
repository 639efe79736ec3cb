/*
 * libFuzzer harness for name normalisation: the first byte splits the
 * input into a domain and a user.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_exa_name.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               split, klen, i;
    unsigned char       *buf;
    unsigned char        key[NGX_EXA_KEY_MAX];
    ngx_exa_str_t        ours[2] = {
        { 7, (const unsigned char *) "example" },
        { 11, (const unsigned char *) "example.com" }
    };
    ngx_exa_name_conf_t  nc = { ours, 2 };

    if (size == 0) {
        return 0;
    }

    split = data[0] % size;
    buf = malloc(size);
    if (buf == NULL) {
        return 0;
    }

    memcpy(buf, data + 1, size - 1);

    if (ngx_exa_name_key(&nc, buf, split, buf + split, size - 1 - split, key,
                         &klen)
        == NGX_EXA_NAME_OK)
    {
        /* a key is never empty, never too long, never has upper case */
        if (klen == 0 || klen > NGX_EXA_KEY_MAX) {
            abort();
        }

        for (i = 0; i < klen; i++) {
            if (key[i] >= 'A' && key[i] <= 'Z') {
                abort();
            }
        }
    }

    free(buf);

    return 0;
}
