/*
 * libFuzzer harness for the NTLM decoder, on raw (decoded) bytes.  The
 * bytes are also sent as an NTLM and a Negotiate token, one character
 * changed or not (the first byte says which): the fast path of NTLM tokens
 * answers as decoding them whole does.  And they are the UTF-16LE user
 * name of an AUTHENTICATE_MESSAGE: the parser (four ASCII characters at a
 * time where it can) names whom a reference reading one character at a
 * time names, from the message and from its token.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_exa_credential.h"
#include "cred.h"
#include "utf16.h"


static const char  b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


static size_t
encode(const unsigned char *in, size_t len, unsigned char *out)
{
    size_t    i, n;
    uint32_t  v;

    n = 0;

    for (i = 0; i + 2 < len; i += 3) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
        out[n++] = b64[v >> 18];
        out[n++] = b64[(v >> 12) & 63];
        out[n++] = b64[(v >> 6) & 63];
        out[n++] = b64[v & 63];
    }

    if (len - i == 1) {
        v = (uint32_t) in[i] << 16;
        out[n++] = b64[v >> 18];
        out[n++] = b64[(v >> 12) & 63];
        out[n++] = '=';
        out[n++] = '=';

    } else if (len - i == 2) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8;
        out[n++] = b64[v >> 18];
        out[n++] = b64[(v >> 12) & 63];
        out[n++] = b64[(v >> 6) & 63];
        out[n++] = '=';
    }

    return n;
}


static void
differ(const unsigned char *data, size_t size, const char *scheme)
{
    size_t           n, s, worklen;
    unsigned char   *hdr, *work;
    ngx_exa_cred_t   fast, full;
    static const char  mutate[] = "A/+=a0 %-_\x80";

    s = strlen(scheme);
    hdr = malloc(s + (size - 1) / 3 * 4 + 4);
    if (hdr == NULL) {
        return;
    }

    memcpy(hdr, scheme, s);
    n = s + encode(data + 1, size - 1, hdr + s);

    if ((data[0] & 0x80) && n > s) {
        hdr[s + data[0] % (n - s)] = mutate[data[0] % (sizeof(mutate) - 1)];
    }

    /* exactly the work area asked for */
    worklen = n / 4 * 3 + 3;
    work = malloc(worklen);

    if (work != NULL
        && (ngx_exa_credential_parse(NULL, hdr, n, work, worklen, &fast)
            != ngx_exa_credential_parse_full(NULL, hdr, n, work, worklen,
                                             &full)
            || !ngx_exa_cred_same(&fast, &full)))
    {
        abort();
    }

    free(work);
    free(hdr);
}


/* the bytes as the user name of a Type 3, UTF-16LE, after the header */

static void
user_name(const unsigned char *data, size_t size)
{
    int             want;
    size_t          rlen;
    unsigned char  *b, *m;
    ngx_exa_cred_t  cred;
    unsigned char   ref[NGX_EXA_NAME_MAX + 8];

    if (size > NGX_EXA_NTLM_MAX - 64) {
        return;
    }

    /* b[0] = 0: differ() sends the message after it unchanged */

    b = calloc(1, 1 + 64 + size);
    if (b == NULL) {
        return;
    }

    m = b + 1;

    memcpy(m, "NTLMSSP\0\3\0\0\0", 12);
    m[36] = (unsigned char) size;
    m[37] = (unsigned char) (size >> 8);
    m[40] = 64;
    m[60] = 0x01;
    memcpy(m + 64, data, size);

    want = ref_utf16(data, size, ref, &rlen);

    if (ngx_exa_ntlm_parse(m, 64 + size, &cred) == NGX_EXA_CRED_USER) {
        if (want != 0 || rlen != cred.user_len
            || memcmp(ref, cred.user, rlen) != 0)
        {
            abort();
        }

    } else if (want == 0 && rlen > 0) {
        abort();
    }

    /* the same message as a token: the fast path and the full one */

    differ(b, 1 + 64 + size, "NTLM ");

    free(b);
}


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

    differ(data, size, "NTLM ");
    differ(data, size, "Negotiate ");

    user_name(data, size);

    return 0;
}
