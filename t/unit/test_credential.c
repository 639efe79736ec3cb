/*
 * Credential decoding: base64 and Basic.
 */

#include "unit.h"
#include "ngx_exa_credential.h"


static unsigned char  work[NGX_EXA_TOKEN_MAX];


static int
parse(const char *hdr, ngx_exa_cred_t *cred)
{
    return ngx_exa_credential_parse(NULL, (const unsigned char *) hdr,
                                    strlen(hdr), work, sizeof(work), cred);
}


static int
user_is(const ngx_exa_cred_t *cred, const char *want)
{
    return cred->status == NGX_EXA_CRED_USER
           && cred->user_len == strlen(want)
           && memcmp(cred->user, want, cred->user_len) == 0;
}


static size_t
b64(const char *in, int url, char *out)
{
    size_t  n;

    n = ngx_exa_base64_decode((unsigned char *) out,
                              (const unsigned char *) in, strlen(in), url);
    if (n != (size_t) -1) {
        out[n] = '\0';
    }

    return n;
}


int
main(void)
{
    char            out[256];
    ngx_exa_cred_t  c;

    /* base64, RFC 4648 section 10 vectors */
    CHECK(b64("", 0, out) == 0, "empty");
    CHECK(b64("Zg==", 0, out) == 1 && strcmp(out, "f") == 0, "f");
    CHECK(b64("Zm8=", 0, out) == 2 && strcmp(out, "fo") == 0, "fo");
    CHECK(b64("Zm9v", 0, out) == 3 && strcmp(out, "foo") == 0, "foo");
    CHECK(b64("Zm9vYg==", 0, out) == 4 && strcmp(out, "foob") == 0, "foob");
    CHECK(b64("Zm9vYmE=", 0, out) == 5 && strcmp(out, "fooba") == 0, "fooba");
    CHECK(b64("Zm9vYmFy", 0, out) == 6 && strcmp(out, "foobar") == 0,
          "foobar");
    CHECK(b64("Zm9vYg", 1, out) == 4 && strcmp(out, "foob") == 0, "url");
    CHECK(b64("-_-_", 1, out) == 3, "url alphabet");

    /* hostile base64 */
    CHECK(b64("Zm9vYg", 0, out) == (size_t) -1, "missing padding");
    CHECK(b64("Zm9vYg===", 0, out) == (size_t) -1, "extra padding");
    CHECK(b64("Zg==Zg==", 0, out) == (size_t) -1, "padding in the middle");
    CHECK(b64("Zm 9v", 0, out) == (size_t) -1, "whitespace");
    CHECK(b64("Zh==", 0, out) == (size_t) -1, "non-zero trailing bits");
    CHECK(b64("Zm9=", 0, out) == (size_t) -1, "non-zero trailing bits 2");
    CHECK(b64("-_-_", 0, out) == (size_t) -1, "url alphabet in standard");
    CHECK(b64("+/+/", 1, out) == (size_t) -1, "standard alphabet in url");
    CHECK(b64("Zm9vY", 1, out) == (size_t) -1, "length 1 mod 4");
    CHECK(b64("====", 0, out) == (size_t) -1, "only padding");
    CHECK(b64("Z\x80==", 0, out) == (size_t) -1, "high bit");

    /* Basic: forms */
    CHECK(parse("Basic YWxpY2U6c2VjcmV0", &c) == NGX_EXA_CRED_USER
          && user_is(&c, "alice") && c.scheme == NGX_EXA_AUTH_BASIC,
          "alice:secret");
    CHECK(parse("basic RVhBTVBMRVxhbGljZTpwdw==", &c) == NGX_EXA_CRED_USER
          && user_is(&c, "EXAMPLE\\alice"), "scheme case, DOMAIN\\user");
    CHECK(parse("BASIC   YWxpY2U6YTpiOmM=  ", &c) == NGX_EXA_CRED_USER
          && user_is(&c, "alice"), "blanks; colons in the password");
    CHECK(parse("Basic w7ZybGE6eA==", &c) == NGX_EXA_CRED_USER
          && user_is(&c, "\xc3\xb6rla"), "utf-8 user");

    /* Basic: hostile */
    CHECK(parse("Basic YWxpY2U=", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "no colon");
    CHECK(parse("Basic OnB3", &c) == NGX_EXA_CRED_UNIDENTIFIED, "empty user");
    CHECK(parse("Basic", &c) == NGX_EXA_CRED_UNIDENTIFIED, "no token");
    CHECK(parse("Basic ", &c) == NGX_EXA_CRED_UNIDENTIFIED, "blank token");
    CHECK(parse("Basic !!!!", &c) == NGX_EXA_CRED_UNIDENTIFIED, "bad b64");
    CHECK(parse("Basic 9nJsYTp4", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "latin-1 user");
    CHECK(parse("Basic YQBiOng=", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "NUL in the user");
    CHECK(parse("Basicx YWxpY2U6eA==", &c) == NGX_EXA_CRED_UNIDENTIFIED
          && c.scheme == NGX_EXA_AUTH_OTHER, "scheme prefix");
    CHECK(parse("Digest username=\"a\"", &c) == NGX_EXA_CRED_UNIDENTIFIED
          && c.scheme == NGX_EXA_AUTH_OTHER, "digest");
    CHECK(parse("", &c) == NGX_EXA_CRED_UNIDENTIFIED, "empty header");

    /* an empty Bearer asks for the challenge */
    CHECK(parse("Bearer", &c) == NGX_EXA_CRED_HANDSHAKE, "empty bearer");

    UNIT_DONE("test_credential");
}
