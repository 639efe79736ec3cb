/*
 * Credential decoding: base64 and Basic.
 */

#include <stdint.h>
#include <sys/types.h>

#include "unit.h"
#include "ngx_exa_credential.h"
#include "ngx_exa_name.h"


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


/* RFC 4648 strictly, one character at a time: the reference */

static int
ref_value(unsigned char c, int url)
{
    const char  *a, *p;

    a = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    p = c ? strchr(a, c) : NULL;

    return p ? (int) (p - a) : -1;
}


static size_t
ref_decode(const unsigned char *src, size_t len, int url, unsigned char *dst)
{
    int       v;
    size_t    i, n, bits, pad;
    uint32_t  acc;

    pad = 0;

    if (!url) {
        if (len % 4) {
            return (size_t) -1;
        }

        while (pad < 2 && len > pad && src[len - 1 - pad] == '=') {
            pad++;
        }

    } else if (len % 4 == 1) {
        return (size_t) -1;
    }

    acc = 0;
    bits = 0;
    n = 0;

    for (i = 0; i < len - pad; i++) {
        v = ref_value(src[i], url);

        if (v < 0) {
            return (size_t) -1;
        }

        acc = (acc << 6) | (uint32_t) v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            dst[n++] = (unsigned char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    /* the bits left over are zero, and "=" pads only what is missing */

    if (acc != 0 || (!url && pad != (3 - n % 3) % 3)) {
        return (size_t) -1;
    }

    return n;
}


/*
 * ngx_exa_base64_prefix() of a token that decodes (reference r, m bytes,
 * nchars characters before the padding) into size bytes, up to "stop":
 * the bytes up to the first stop byte as the reference has them, when
 * that byte is in a quad of three bytes within what dst holds less eight,
 * else -1; nothing after the stop byte is written but zeroes.
 */

static size_t  prefix_printable, prefix_said_printable;
static size_t  basic_fast_answers, basic_users;


static void
prefix_differential(const unsigned char *src, size_t len,
    const unsigned char *r, size_t m, size_t nchars, size_t size,
    unsigned char stop)
{
    int            printable;
    size_t         n, s, k, quads;
    unsigned char  b[200];

    memset(b, 0xa5, sizeof(b));
    n = ngx_exa_base64_prefix(b, size, src, len, stop, &printable);

    for (s = 0; s < m && r[s] != stop; s++) {
        /* void */
    }

    quads = nchars / 4;

    if (quads > (size - 5) / 3) {
        quads = (size - 5) / 3;
    }

    if (s < 3 * quads) {
        CHECK(n == s && memcmp(b, r, s) == 0,
              "prefix of \"%.*s\" to 0x%02x in %zu bytes: %zd, reference %zu",
              (int) len, (const char *) src, stop, size, (ssize_t) n, s);

        /* printable when it says so, and when it is, mostly */

        for (k = 0; k < s && r[k] >= 0x20 && r[k] <= 0x7e; k++) {
            /* void */
        }

        CHECK(!printable || k == s, "prefix of \"%.*s\": not printable",
              (int) len, (const char *) src);

        prefix_printable += (k == s);
        prefix_said_printable += printable;

    } else {
        CHECK(n == (size_t) -1,
              "prefix of \"%.*s\" to 0x%02x in %zu bytes: %zd, none",
              (int) len, (const char *) src, stop, size, (ssize_t) n);
    }

    for (k = (n == (size_t) -1) ? 0 : n + 1; k < sizeof(b); k++) {
        if (k >= size || (k >= s && b[k] != 0xa5 && b[k] != 0)) {
            CHECK(k >= size ? b[k] == 0xa5 : 0,
                  "prefix of \"%.*s\" to 0x%02x in %zu bytes wrote byte %zu",
                  (int) len, (const char *) src, stop, size, k);
        }
    }
}


/* a token that does not decode: no prefix either */

static void
prefix_invalid(const unsigned char *src, size_t len, size_t size,
    unsigned char stop)
{
    int            printable;
    unsigned char  b[200];

    CHECK(ngx_exa_base64_prefix(b, size, src, len, stop, &printable)
          == (size_t) -1,
          "prefix of bad \"%.*s\"", (int) len, (const char *) src);
}


/*
 * Random tokens, valid or one character off: the decoder, the check and
 * the decoding of a range answer as the reference does.
 */

static void
base64_differential(void)
{
    int            i, k, url;
    size_t         len, n, m, c, from, to, nchars;
    unsigned int   seed;
    unsigned char  src[200], a[200], b[200], r[200];
    static const char  chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_= "
        "\x80\xff\x00";

    seed = 5;

#define RND(n)  ((size_t) ((seed = seed * 1103515245 + 12345) >> 16) % (n))

    for (i = 0; i < 200000; i++) {
        url = (int) RND(4) == 0;
        len = RND(8) ? RND(40) : RND(190);

        /* clean tokens, or with a few characters from outside */

        c = RND(3) ? 0 : 1 + RND(4);

        for (k = 0; k < (int) len; k++) {
            src[k] = (unsigned char) chars[RND(64)];
        }

        for (k = 0; k < (int) c && len; k++) {
            m = RND(len);
            src[m] = (unsigned char) chars[RND(sizeof(chars) - 1)];
        }

        if (!url && len >= 4 && RND(2)) {
            src[len - 1] = '=';

            if (RND(2)) {
                src[len - 2] = '=';
            }
        }

        n = ngx_exa_base64_decode(a, src, len, url);
        m = ref_decode(src, len, url, r);

        CHECK(n == m && (n == (size_t) -1 || memcmp(a, r, n) == 0),
              "base64 \"%.*s\" (url %d): %zd, reference %zd", (int) len,
              (const char *) src, url, (ssize_t) n, (ssize_t) m);

        if (url) {
            continue;
        }

        c = ngx_exa_base64_check(src, len, &nchars);

        CHECK(c == m, "check \"%.*s\": %zd, reference %zd", (int) len,
              (const char *) src, (ssize_t) c, (ssize_t) m);

        if (m == (size_t) -1 || m == 0) {
            if (m == (size_t) -1) {
                from = 11 + RND(190);
                prefix_invalid(src, len, from, (unsigned char) RND(256));
            }

            continue;
        }

        from = 11 + RND(190);
        to = RND(4) ? r[RND(m)] : RND(256);
        prefix_differential(src, len, r, m, nchars, from, (unsigned char) to);

        from = RND(m);
        to = from + 1 + RND(m - from);
        memset(b, 0xa5, sizeof(b));
        ngx_exa_base64_range(b, src, nchars, from, to);

        CHECK(memcmp(b + from, r + from, to - from) == 0,
              "range %zu-%zu of \"%.*s\"", from, to, (int) len,
              (const char *) src);

        for (k = 0; k < (int) sizeof(b); k++) {
            if (b[k] != 0xa5 && (size_t) k >= m) {
                CHECK(0, "range %zu-%zu of \"%.*s\" wrote byte %d", from,
                      to, (int) len, (const char *) src, k);
                break;
            }
        }
    }

#undef RND

    CHECK(prefix_said_printable >= prefix_printable * 9 / 10,
          "printable said of %zu prefixes of %zu", prefix_said_printable,
          prefix_printable);
}


/*
 * The check, against the reference, with every byte value at every
 * place of valid tokens of every length up to 136 characters: the
 * vectors of sixteen and thirty-two, the last ones read again, the
 * last quad and the padding.
 */

static void
base64_check_every_byte(void)
{
    int            b;
    size_t         len, pos, c, m, nchars, pad;
    unsigned char  src[136], r[136];
    static const char  a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    for (len = 4; len <= sizeof(src); len += 4) {
        for (pad = 0; pad < 3; pad++) {
            for (pos = 0; pos < len; pos++) {
                src[pos] = (unsigned char) a[(pos * 7 + len) % 64];
            }

            /* the bits left over zero: "A" before the padding */

            if (pad) {
                src[len - 1 - pad] = 'A';
                src[len - 1] = '=';

                if (pad == 2) {
                    src[len - 2] = '=';
                }
            }

            CHECK(ngx_exa_base64_check(src, len, &nchars)
                  == ref_decode(src, len, 0, r)
                  && ref_decode(src, len, 0, r) != (size_t) -1,
                  "clean token of %zu, pad %zu", len, pad);

            for (pos = 0; pos < len; pos++) {
                unsigned char  keep = src[pos];

                for (b = 0; b < 256; b++) {
                    src[pos] = (unsigned char) b;

                    c = ngx_exa_base64_check(src, len, &nchars);
                    m = ref_decode(src, len, 0, r);

                    CHECK(c == m, "byte %02x at %zu of %zu, pad %zu: "
                          "%zd, reference %zd", b, pos, len, pad,
                          (ssize_t) c, (ssize_t) m);
                }

                src[pos] = keep;
            }
        }
    }
}


/* the scheme the old way: every name compared with the first token */

static int
ref_scheme(const unsigned char *v, size_t len)
{
    int          k;
    size_t       i;
    static const char  *names[] = {
        "none", "basic", "ntlm", "negotiate", "bearer"
    };

    for (k = NGX_EXA_AUTH_BASIC; k < NGX_EXA_AUTH_OTHER; k++) {
        for (i = 0; i < len && v[i] != ' ' && v[i] != '\t'; i++) {
            if (names[k][i] == '\0' || (v[i] | 0x20) != names[k][i]) {
                break;
            }
        }

        if (names[k][i] == '\0' && (i == len || v[i] == ' ' || v[i] == '\t'))
        {
            return k;
        }
    }

    return NGX_EXA_AUTH_OTHER;
}


static void
scheme_differential(void)
{
    int            i, k, m;
    size_t         len;
    unsigned int   seed;
    unsigned char  v[16];
    static const char  *pieces[] = {
        "Basic", "NTLM", "negotiate", "BEARER", "b", "n", "a", "t", " ",
        "\t", "x", "B", "N", "e", "\x82", "\xce", "basi", "NTL", "Negotiat"
    };

    seed = 9;

    for (i = 0; i < 200000; i++) {
        len = 0;
        m = (int) ((seed = seed * 1103515245 + 12345) >> 16) % 4;

        for (k = 0; k < m; k++) {
            const char  *p;

            p = pieces[((seed = seed * 1103515245 + 12345) >> 16)
                       % (sizeof(pieces) / sizeof(pieces[0]))];

            if (len + strlen(p) > sizeof(v)) {
                break;
            }

            memcpy(v + len, p, strlen(p));
            len += strlen(p);
        }

        CHECK(ngx_exa_scheme_of(v, len) == ref_scheme(v, len),
              "scheme of \"%.*s\": %d, reference %d", (int) len, v,
              ngx_exa_scheme_of(v, len), ref_scheme(v, len));
    }
}




static int
cred_same(const ngx_exa_cred_t *a, const ngx_exa_cred_t *b)
{
    return a->status == b->status && a->scheme == b->scheme
           && strcmp(a->detail, b->detail) == 0
           && a->user_len == b->user_len && a->domain_len == b->domain_len
           && memcmp(a->user, b->user, a->user_len) == 0
           && memcmp(a->domain, b->domain, a->domain_len) == 0;
}


/*
 * A Basic header (its credential c as ngx_exa_credential_parse() read
 * it, its bytes raw, the first colon at "colon"): decoded whole, and by
 * ngx_exa_credential_parse_fast() when that answers, the same; whatever the
 * answer, no byte of the password in the credential past the name.
 */

static void
basic_fast_differential(const unsigned char *hdr, size_t len,
    const ngx_exa_cred_t *c, const unsigned char *raw, size_t rawlen,
    size_t colon)
{
    int             rc;
    size_t          k;
    ngx_exa_cred_t  full, fast;

    (void) raw;
    (void) rawlen;

    CHECK(ngx_exa_credential_parse_full(NULL, hdr, len, work, sizeof(work),
                                        &full)
          == c->status && cred_same(c, &full),
          "basic \"%.*s\": parse and parse_full differ", (int) len,
          (const char *) hdr);

    memset(&fast, 0x5a, sizeof(fast));
    rc = ngx_exa_credential_parse_fast(ngx_exa_scheme_of(hdr, len), hdr, len,
                                       &fast);

    basic_fast_answers += (rc >= 0);
    basic_users += (full.status == NGX_EXA_CRED_USER);

    CHECK(rc == -1 || (rc == full.status && cred_same(&fast, &full)),
          "basic \"%.*s\": fast %d, full %d (%s)", (int) len,
          (const char *) hdr, rc, full.status, full.detail);

    for (k = colon + 1; k < sizeof(fast.user); k++) {
        if (fast.user[k] != 0x5a && fast.user[k] != 0) {
            CHECK(0, "basic \"%.*s\": byte %zu of the password kept",
                  (int) len, (const char *) hdr, k);
            break;
        }
    }
}


/*
 * Basic against a reference written out: the user up to the first
 * colon, not empty, not too long, printable ASCII or valid UTF-8; user
 * names of every length up to past the limit, of bytes of every kind
 */

static void
basic_differential(void)
{
    int             i, want;
    size_t          n, k, len, colon;
    unsigned int    seed;
    ngx_exa_cred_t  c;
    unsigned char   raw[300], ref;
    char            hdr[8 + 400 + 1];
    static const char  abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const unsigned char  kinds[] = {
        'a', 'Z', '0', ' ', '~', '@', '\\', 0x00, 0x1f, 0x7f, 0x80, 0xc3,
        0xa9, 0xe2, 0x82, 0xac, 0xff, 0xf0, 0x9f, ':'
    };

    seed = 11;

    for (i = 0; i < 100000; i++) {
        seed = seed * 1103515245 + 12345;
        len = (seed >> 16) % 270;
        k = (seed >> 8) % 4;

        for (n = 0; n < len; n++) {
            seed = seed * 1103515245 + 12345;
            raw[n] = (k == 0) ? kinds[(seed >> 16) % sizeof(kinds)]
                   : (k == 1) ? (unsigned char) (0x20 + (seed >> 16) % 0x5f)
                   : (k == 2) ? kinds[(seed >> 16) % 7]
                   : (unsigned char) (seed >> 16);
        }

        if (len && (seed >> 24) % 3) {
            raw[(seed >> 12) % len] = ':';
        }

        /* the reference */

        for (colon = 0; colon < len && raw[colon] != ':'; colon++) {
            /* void */
        }

        ref = 1;

        for (n = 0; n < colon; n++) {
            ref &= raw[n] >= 0x20 && raw[n] <= 0x7e;
        }

        want = colon < len && colon > 0 && colon <= NGX_EXA_NAME_MAX
               && (ref || ngx_exa_utf8_valid(raw, colon));

        /* base64 of the bytes, as a header */

        memcpy(hdr, "Basic ", 6);
        k = 6;

        for (n = 0; n < len; n += 3) {
            uint32_t  v;

            v = (uint32_t) raw[n] << 16
                | (n + 1 < len ? (uint32_t) raw[n + 1] << 8 : 0)
                | (n + 2 < len ? raw[n + 2] : 0);

            hdr[k++] = abc[v >> 18 & 63];
            hdr[k++] = abc[v >> 12 & 63];
            hdr[k++] = n + 1 < len ? abc[v >> 6 & 63] : '=';
            hdr[k++] = n + 2 < len ? abc[v & 63] : '=';
        }

        hdr[k] = '\0';

        if (len == 0) {
            continue;
        }

        CHECK((parse(hdr, &c) == NGX_EXA_CRED_USER) == want
              && (!want || (c.user_len == colon
                            && memcmp(c.user, raw, colon) == 0)),
              "basic of %zu bytes, colon at %zu: %d, reference %d",
              len, colon, c.status == NGX_EXA_CRED_USER, want);

        /* the fast path answers as decoding the token whole does */

        basic_fast_differential((const unsigned char *) hdr, k, &c,
                                raw, len, colon);
    }

    /* the fast path is what answers most names */

    CHECK(basic_fast_answers > basic_users * 9 / 10,
          "the fast path answered %zu of %zu names", basic_fast_answers,
          basic_users);
}


int
main(void)
{
    char            out[256];
    size_t          nchars;
    unsigned char   wide[64];
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

    /*
     * the check and the decoders with 32 characters at a time (AVX2, where
     * the processor has it), then without
     */

    memset(wide, 'A', sizeof(wide));
    (void) ngx_exa_base64_check(wide, sizeof(wide), &nchars);
    printf("# base64 check 32 characters at a time: %s\n",
           ngx_exa_base64_wide ? "yes" : "no");

    base64_differential();
    base64_check_every_byte();

    if (ngx_exa_base64_wide) {
        ngx_exa_base64_wide = 0;
        base64_differential();
        base64_check_every_byte();
        ngx_exa_base64_wide = 1;
    }
    scheme_differential();
    basic_differential();

    /* a scheme that ngx_exa_scheme_of() never gives is no scheme */
    {
        int                   k;
        static const int      bad[] = {
            -1, NGX_EXA_AUTH_NONE, NGX_EXA_AUTH_OTHER, NGX_EXA_AUTH_N, 1000
        };
        static const unsigned char  basic[] = "Basic dXNlcjpwYXNz";

        for (k = 0; k < 5; k++) {
            CHECK(ngx_exa_credential_parse_as(NULL, bad[k], basic,
                                              sizeof(basic) - 1,
                                              (unsigned char *) out,
                                              sizeof(out), &c)
                  == NGX_EXA_CRED_UNIDENTIFIED
                  && c.scheme == NGX_EXA_AUTH_OTHER
                  && strcmp(c.detail, "unknown scheme") == 0,
                  "scheme %d", bad[k]);
        }
    }

    /* the scheme: its name in any case, nothing more */
    CHECK(ngx_exa_scheme_of((const unsigned char *) "nTlM x", 6)
          == NGX_EXA_AUTH_NTLM, "ntlm in any case");
    CHECK(ngx_exa_scheme_of((const unsigned char *) "Negotiate\tx", 11)
          == NGX_EXA_AUTH_NEGOTIATE, "negotiate, tab");
    CHECK(ngx_exa_scheme_of((const unsigned char *) "Bearer", 6)
          == NGX_EXA_AUTH_BEARER, "bearer alone");
    CHECK(ngx_exa_scheme_of((const unsigned char *) "BasicX y", 8)
          == NGX_EXA_AUTH_OTHER, "basic and more");
    CHECK(ngx_exa_scheme_of((const unsigned char *) "Basi y", 6)
          == NGX_EXA_AUTH_OTHER, "basic cut");
    CHECK(ngx_exa_scheme_of((const unsigned char *) "NTL\xcd x", 6)
          == NGX_EXA_AUTH_OTHER, "a byte that folds to no letter");
    CHECK(ngx_exa_scheme_of((const unsigned char *) " Basic x", 8)
          == NGX_EXA_AUTH_OTHER, "a blank first");
    CHECK(ngx_exa_scheme_of((const unsigned char *) "", 0)
          == NGX_EXA_AUTH_OTHER, "empty");

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
    CHECK(parse("Basic YX86eA==", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "DEL in the user");
    CHECK(parse("Basic YQliOng=", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "tab in the user");
    CHECK(parse("Basic fm9rOng=", &c) == NGX_EXA_CRED_USER && user_is(&c, "~ok"),
          "the last printable byte");
    CHECK(parse("Basicx YWxpY2U6eA==", &c) == NGX_EXA_CRED_UNIDENTIFIED
          && c.scheme == NGX_EXA_AUTH_OTHER, "scheme prefix");
    CHECK(parse("Digest username=\"a\"", &c) == NGX_EXA_CRED_UNIDENTIFIED
          && c.scheme == NGX_EXA_AUTH_OTHER, "digest");
    CHECK(parse("", &c) == NGX_EXA_CRED_UNIDENTIFIED, "empty header");

    /* an empty Bearer asks for the challenge */
    CHECK(parse("Bearer", &c) == NGX_EXA_CRED_HANDSHAKE, "empty bearer");

    UNIT_DONE("test_credential");
}
