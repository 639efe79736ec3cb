/*
 * NTLM, SPNEGO and JWT decoding: the MS-NLMP section 4.2 vectors, SPNEGO
 * wrappings of them, and hostile messages built from them.
 */

#include "unit.h"
#include "ngx_exa_credential.h"
#include "../../fuzz/utf16.h"


static unsigned char  work[NGX_EXA_TOKEN_MAX];
static char           hdr[NGX_EXA_TOKEN_MAX * 2];


/* MS-NLMP 4.2.2.3: NTLMv1 AUTHENTICATE_MESSAGE, Version present, no MIC */
static const char  *v1 =
    "TlRMTVNTUAADAAAAGAAYAGwAAAAYABgAhAAAAAwADABIAAAACAAIAFQAAAAQABAAXAAAABAA"
    "EACcAAAANYKA4gUBKAoAAAAPRABvAG0AYQBpAG4AVQBzAGUAcgBDAE8ATQBQAFUAVABFAFIA"
    "mN73uH+Iql2v4t93loihct7xHH1cze8TZ8QwEfMCmKKtNezmTxYzHES9vtknhB+UUYgisbPz"
    "UMiVhoLsuz48tw==";

/* MS-NLMP 4.2.4.3: NTLMv2 AUTHENTICATE_MESSAGE */
static const char  *v2 =
    "TlRMTVNTUAADAAAAGAAYAGwAAABUAFQAhAAAAAwADABIAAAACAAIAFQAAAAQABAAXAAAABAA"
    "EADYAAAANYKI4gUBKAoAAAAPRABvAG0AYQBpAG4AVQBzAGUAcgBDAE8ATQBQAFUAVABFAFIA"
    "hsNQl6yc7BAlVHZKV8zMGaqqqqqqqqqqaM0KuFHlHJaqvJJ76+9qHAEBAAAAAAAAAAAAAAAA"
    "AACqqqqqqqqqqgAAAAACAAwARABvAG0AYQBpAG4AAQAMAFMAZQByAHYAZQByAAAAAAAAAAAA"
    "xdrSVE/JeZCUzhzpC8nQPg==";

/* a NEGOTIATE_MESSAGE, 32 bytes, no Version */
static const char  *t1 = "TlRMTVNTUAABAAAAB4IIAAAAAAAgAAAAAAAAACAAAAA=";

/* SPNEGO NegTokenInit carrying that Type 1 */
static const char  *init =
    "YEAGBisGAQUFAqA2MDSgDjAMBgorBgEEAYI3AgIKoiIEIE5UTE1TU1AAAQAAAAeCCAAAAAAA"
    "IAAAAAAAAAAgAAAA";

/* SPNEGO NegTokenResp carrying the v1 Type 3, long-form lengths */
static const char  *resp =
    "oYG1MIGyooGvBIGsTlRMTVNTUAADAAAAGAAYAGwAAAAYABgAhAAAAAwADABIAAAACAAIAFQA"
    "AAAQABAAXAAAABAAEACcAAAANYKA4gUBKAoAAAAPRABvAG0AYQBpAG4AVQBzAGUAcgBDAE8A"
    "TQBQAFUAVABFAFIAmN73uH+Iql2v4t93loihct7xHH1cze8TZ8QwEfMCmKKtNezmTxYzHES9"
    "vtknhB+UUYgisbPzUMiVhoLsuz48tw==";


/*
 * Recorded from real clients answering the stand-in challenge of the test
 * suite: curl --ntlm (EXAMPLE\alice), curl --negotiate with gss-ntlmssp
 * (EXAMPLE\carol: a NegTokenInit with a Type 1, then a NegTokenResp with
 * a Type 3 carrying a MIC), and Perl's Authen::NTLM (EXAMPLE\alice, NTLMv2,
 * the domain sent in 8 bits although the UNICODE flag is set).
 */

static const char  *curl_t1 =
    "NTLM TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=";

static const char  *curl_t3 =
    "NTLM TlRMTVNTUAADAAAAGAAYAEAAAACcAJwAWAAAAA4ADgD0AAAACgAKAAIBAAAWABYADAEA"
    "AAAAAAAAAAAANYKJ4u62kBvnQj9lCobaAIKf69IwQUB7sWncjV/GKgJ6maa26fMv2trVBgMB"
    "AQAAAAAAAIAFhWPlfN0BMEFAe7Fp3I0AAAAAAgAOAEUAWABBAE0AUABMAEUAAQAMAEUAWABD"
    "AEgAMAAxAAQAGABlAHgAYQBtAHAAbABlAC4AdABlAHMAdAADACYAZQB4AGMAaAAwADEALgBl"
    "AHgAYQBtAHAAbABlAC4AdABlAHMAdAAAAAAAAAAAAEUAWABBAE0AUABMAEUAYQBsAGkAYwBl"
    "AFcATwBSAEsAUwBUAEEAVABJAE8ATgA=";

static const char  *gss_init =
    "Negotiate YEgGBisGAQUFAqA+MDygDjAMBgorBgEEAYI3AgIKoioEKE5UTE1TU1AAAQAAAB"
    "eCCOIAAAAAAAAAAAAAAAAAAAAABgIAAAAAAA8=";

static const char  *gss_resp =
    "Negotiate oYIBVTCCAVGgAwoBAaKCAUgEggFETlRMTVNTUAADAAAAAAAAAEgAAADQANAASA"
    "AAAA4ADgAYAQAACgAKACYBAAAEAAQAMAEAABAAEAA0AQAANYKJ4gYCAAAAAAAPBXSNdA1iWy"
    "wchJt0IgZJEAEBAAAAAAAArCrtY+V83QHN9N0o22xspAAAAAABAAwARQBYAEMASAAwADEAAg"
    "AOAEUAWABBAE0AUABMAEUAAwAmAGUAeABjAGgAMAAxAC4AZQB4AGEAbQBwAGwAZQAuAHQAZQ"
    "BzAHQABAAYAGUAeABhAG0AcABsAGUALgB0AGUAcwB0AAYABAAAAAAABwAIAKwq7WPlfN0BCQ"
    "AcAEgAVABUAFAALwAxADIANwAuADAALgAwAC4AMQAAAAAAAAAAAEUAWABBAE0AUABMAEUAYw"
    "BhAHIAbwBsAFYATQADaar3YFgPZYHnNmF4F9ut";

static const char  *perl_t3 =
    "NTLM TlRMTVNTUAADAAAAGAAYAEAAAACcAJwAWAAAAAcABwD0AAAACgAKAPsAAAAKAAoABQ"
    "EAAAAAAADPAAAABYIIAIPptIQtXswpjs5aC0RfzPgAAAAAAAAAAC5fCJJ/Y3R/jR2S"
    "RD1qA6ABAQAAAAAAALIRsCEAAAAAAAAAAAAAAAAAAAAAAgAOAEUAWABBAE0AUABMAE"
    "UAAQAMAEUAWABDAEgAMAAxAAQAGABlAHgAYQBtAHAAbABlAC4AdABlAHMAdAADACYA"
    "ZQB4AGMAaAAwADEALgBlAHgAYQBtAHAAbABlAC4AdABlAHMAdAAAAAAAAAAAAEVYQU"
    "1QTEVhAGwAaQBjAGUAYQBsAGkAYwBlAA==";


static const char  b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


static size_t
b64enc(const unsigned char *in, size_t len, char *out, int url)
{
    size_t    i, n;
    uint32_t  v;

    n = 0;

    for (i = 0; i + 2 < len; i += 3) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
        out[n++] = b64chars[v >> 18];
        out[n++] = b64chars[(v >> 12) & 63];
        out[n++] = b64chars[(v >> 6) & 63];
        out[n++] = b64chars[v & 63];
    }

    if (len - i == 1) {
        v = (uint32_t) in[i] << 16;
        out[n++] = b64chars[v >> 18];
        out[n++] = b64chars[(v >> 12) & 63];
        if (!url) {
            out[n++] = '=';
            out[n++] = '=';
        }

    } else if (len - i == 2) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8;
        out[n++] = b64chars[v >> 18];
        out[n++] = b64chars[(v >> 12) & 63];
        out[n++] = b64chars[(v >> 6) & 63];
        if (!url) {
            out[n++] = '=';
        }
    }

    if (url) {
        for (i = 0; i < n; i++) {
            out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
        }
    }

    out[n] = '\0';

    return n;
}


static size_t
b64dec(const char *in, unsigned char *out)
{
    return ngx_exa_base64_decode(out, (const unsigned char *) in, strlen(in),
                                 0);
}


static int  fast_checked, fast_taken;


/*
 * The header parsed the fast way (ngx_exa_credential_parse()) and the
 * full way (every token decoded whole): the same answer.
 */

static int
both(const unsigned char *h, size_t len, ngx_exa_cred_t *c)
{
    int             rc, rc2;
    ngx_exa_cred_t  full;
    static unsigned char  work2[NGX_EXA_TOKEN_MAX];

    memset(work, 0xa5, 4096);
    rc = ngx_exa_credential_parse(NULL, h, len, work, sizeof(work), c);
    rc2 = ngx_exa_credential_parse_full(NULL, h, len, work2, sizeof(work2),
                                        &full);

    fast_checked++;

    /* the fast path decodes only what it reads: bytes 12 to 27 are not */

    if (rc2 == NGX_EXA_CRED_USER && work[16] == 0xa5 && work[20] == 0xa5
        && work[24] == 0xa5)
    {
        fast_taken++;
    }

    CHECK(rc == rc2 && c->status == full.status && c->scheme == full.scheme
          && strcmp(c->detail, full.detail) == 0
          && c->user_len == full.user_len && c->domain_len == full.domain_len
          && memcmp(c->user, full.user, c->user_len) == 0
          && memcmp(c->domain, full.domain, c->domain_len) == 0,
          "%.40s: fast %d %s, full %d %s", (const char *) h, rc, c->detail,
          rc2, full.detail);

    /* and with the scheme read beforehand, as the handler does */

    rc2 = ngx_exa_credential_parse_as(NULL, ngx_exa_scheme_of(h, len), h, len,
                                      work2, sizeof(work2), &full);

    CHECK(rc == rc2 && c->status == full.status && c->scheme == full.scheme
          && strcmp(c->detail, full.detail) == 0
          && c->user_len == full.user_len && c->domain_len == full.domain_len
          && memcmp(c->user, full.user, c->user_len) == 0
          && memcmp(c->domain, full.domain, c->domain_len) == 0,
          "%.40s: fast %d %s, scheme first %d %s", (const char *) h, rc,
          c->detail, rc2, full.detail);

    return rc;
}


static int
parse(const char *scheme, const unsigned char *tok, size_t len,
    ngx_exa_cred_t *c)
{
    size_t  n;

    n = (size_t) snprintf(hdr, sizeof(hdr), "%s ", scheme);
    b64enc(tok, len, hdr + n, 0);

    return both((const unsigned char *) hdr, strlen(hdr), c);
}


static int
parse_hdr(const char *h, ngx_exa_cred_t *c)
{
    return both((const unsigned char *) h, strlen(h), c);
}


static int
named(const ngx_exa_cred_t *c, const char *domain, const char *user)
{
    return c->status == NGX_EXA_CRED_USER
           && c->domain_len == strlen(domain)
           && memcmp(c->domain, domain, c->domain_len) == 0
           && c->user_len == strlen(user)
           && memcmp(c->user, user, c->user_len) == 0;
}


static void
put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char) v;
    p[1] = (unsigned char) (v >> 8);
}


static void
put32(unsigned char *p, uint32_t v)
{
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}


/* a Type 3 with the given strings, UTF-16LE unless oem */

static size_t
type3(unsigned char *m, const unsigned char *dom, size_t dlen,
    const unsigned char *usr, size_t ulen, int oem, size_t hdr_len)
{
    size_t  off;

    memset(m, 0, hdr_len);
    memcpy(m, "NTLMSSP\0", 8);
    put32(m + 8, 3);
    put32(m + 60, oem ? 0x00000202 : 0x00000201);

    off = hdr_len;
    put16(m + 28, (unsigned) dlen);
    put16(m + 30, (unsigned) dlen);
    put32(m + 32, (uint32_t) off);
    memcpy(m + off, dom, dlen);
    off += dlen;

    put16(m + 36, (unsigned) ulen);
    put16(m + 38, (unsigned) ulen);
    put32(m + 40, (uint32_t) off);
    memcpy(m + off, usr, ulen);
    off += ulen;

    return off;
}


static size_t
u16(const char *s, unsigned char *out)
{
    size_t  n;

    for (n = 0; *s; s++) {
        out[n++] = (unsigned char) *s;
        out[n++] = 0;
    }

    return n;
}


static size_t
der(unsigned char tag, const unsigned char *v, size_t len, unsigned char *out)
{
    size_t         n;
    unsigned char  h[4];

    /* out may be v: move the contents before writing the header */

    h[0] = tag;

    if (len < 0x80) {
        h[1] = (unsigned char) len;
        n = 2;

    } else if (len < 0x100) {
        h[1] = 0x81;
        h[2] = (unsigned char) len;
        n = 3;

    } else {
        h[1] = 0x82;
        h[2] = (unsigned char) (len >> 8);
        h[3] = (unsigned char) len;
        n = 4;
    }

    memmove(out + n, v, len);
    memcpy(out, h, n);

    return n + len;
}


static void
jwt(const char *payload, char *out)
{
    size_t  n;

    n = b64enc((const unsigned char *) "{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
               27, out, 1);
    out[n++] = '.';
    n += b64enc((const unsigned char *) payload, strlen(payload), out + n, 1);
    out[n++] = '.';
    n += b64enc((const unsigned char *) "signature!", 10, out + n, 1);
    out[n] = '\0';
}


static int
bearer(const char *payload, ngx_exa_cred_t *c)
{
    static char  h[8192];

    memcpy(h, "Bearer ", 7);
    jwt(payload, h + 7);

    return parse_hdr(h, c);
}


/*
 * Type 3 messages with fields anywhere, of any length, in the header, past
 * the end, overlapping, and tokens with one character changed: the fast
 * path of an NTLM token answers as decoding it whole does.
 */

static void
ntlm_differential(void)
{
    int             i, k, at;
    char            c;
    size_t          n, len, f, off, slen;
    unsigned int    seed;
    ngx_exa_cred_t  cred;
    unsigned char   m[700];
    static const char  *schemes[] = { "NTLM ", "Negotiate " };
    static const char  mutate[] = "A/+=a0 %-_\x80";

    seed = 3;

#define RND(n)  ((int) ((seed = seed * 1103515245 + 12345) >> 16) % (int) (n))

    for (i = 0; i < 100000; i++) {
        len = 40 + RND(600);

        for (k = 0; k < (int) len; k++) {
            m[k] = (unsigned char) (RND(4) ? 'a' + RND(26) : RND(256));
        }

        memcpy(m, "NTLMSSP", 8);
        put32(m + 8, RND(8) ? 3 : (uint32_t) RND(5));
        put32(m + 60, RND(2) ? 0xe2888235 : 0xe2888234);

        for (f = 28; f <= 36; f += 8) {
            slen = RND(5) ? (size_t) RND(40) : (size_t) RND(70000);
            off = RND(6) ? 64 + (size_t) RND(len) : (size_t) RND(100000);
            put16(m + f, (unsigned) (slen & 0xffff));
            put32(m + f + 4, (uint32_t) off);
        }

        n = (size_t) snprintf(hdr, sizeof(hdr), "%s", schemes[i & 1]);
        n += b64enc(m, len, hdr + n, 0);

        if (RND(4) == 0) {
            at = RND(n);
            c = mutate[RND(sizeof(mutate) - 1)];
            hdr[at] = c;
        }

        (void) both((const unsigned char *) hdr, n, &cred);
    }

#undef RND
}


/*
 * User names of UTF-16LE, ASCII mostly, of every length up to past
 * NGX_EXA_NAME_MAX, with a character now and then that is not ASCII, a
 * NUL, a high byte, a surrogate: the parser (four ASCII characters at a
 * time where it can) names whom the reference names, fast path or full.
 */

static void
utf16_differential(void)
{
    int             i, k, rc, want;
    size_t          ulen, n, rlen, units;
    unsigned int    seed;
    ngx_exa_cred_t  cred;
    unsigned char   name[700], ref[NGX_EXA_NAME_MAX + 8], m[800];

    seed = 11;

#define RND(n)  ((size_t) ((seed = seed * 1103515245 + 12345) >> 16) % (n))

    for (i = 0; i < 60000; i++) {
        units = RND(4) ? RND(24) : RND(300);

        /* first, ASCII only, around the longest name */

        if (i < 2000) {
            units = 240 + i % 30;
        }

        for (k = 0; k < (int) units; k++) {
            name[2 * k] = (unsigned char) (0x20 + RND(0x5f));
            name[2 * k + 1] = 0;

            switch (i < 1000 ? 40 : RND(40)) {
            case 0:
                name[2 * k] = 0;
                break;
            case 1:
                name[2 * k] = (unsigned char) (0x80 + RND(0x80));
                break;
            case 2:
                name[2 * k + 1] = (unsigned char) RND(256);
                break;
            case 3:
                name[2 * k] = 0x7f;
                break;
            case 4:
                name[2 * k] = 1;
                break;
            case 5:
                name[2 * k + 1] = (unsigned char) (0xd8 + RND(8));
                break;
            default:
                break;
            }
        }

        ulen = 2 * units + (RND(50) == 0);
        n = type3(m, (const unsigned char *) "D\0", 2, name, ulen, 0, 64);

        want = ref_utf16(name, ulen, ref, &rlen);
        rc = ngx_exa_ntlm_parse(m, n, &cred);

        if (want == 0 && rlen > 0) {
            CHECK(rc == NGX_EXA_CRED_USER && cred.user_len == rlen
                  && memcmp(cred.user, ref, rlen) == 0,
                  "utf-16 name of %zu bytes: %d %s", ulen, rc, cred.detail);

        } else {
            CHECK(rc == NGX_EXA_CRED_UNIDENTIFIED,
                  "utf-16 name of %zu bytes refused by the reference: %d",
                  ulen, rc);
        }

        /* and the same as a token, the fast way and the full way */

        k = snprintf(hdr, sizeof(hdr), "NTLM ");
        k += (int) b64enc(m, n, hdr + k, 0);

        (void) both((const unsigned char *) hdr, (size_t) k, &cred);
    }

#undef RND
}


int
main(void)
{
    size_t           n, m, i;
    ngx_exa_cred_t   c;
    unsigned char    msg[8192], tok[8192], u[1024], d[512];
    char             big[4096];

    /* the specification's vectors, as NTLM and as raw Negotiate */

    snprintf(big, sizeof(big), "NTLM %s", v1);
    CHECK(parse_hdr(big, &c) == NGX_EXA_CRED_USER
          && named(&c, "Domain", "User"), "MS-NLMP v1 Type 3");

    snprintf(big, sizeof(big), "NTLM %s", v2);
    CHECK(parse_hdr(big, &c) == NGX_EXA_CRED_USER
          && named(&c, "Domain", "User"), "MS-NLMP v2 Type 3");

    snprintf(big, sizeof(big), "Negotiate %s", v2);
    CHECK(parse_hdr(big, &c) == NGX_EXA_CRED_USER
          && c.scheme == NGX_EXA_AUTH_NEGOTIATE
          && named(&c, "Domain", "User"), "raw NTLMSSP under Negotiate");

    snprintf(big, sizeof(big), "NTLM %s", t1);
    CHECK(parse_hdr(big, &c) == NGX_EXA_CRED_HANDSHAKE, "Type 1");

    snprintf(big, sizeof(big), "Negotiate %s", init);
    CHECK(parse_hdr(big, &c) == NGX_EXA_CRED_HANDSHAKE,
          "SPNEGO init with Type 1");

    snprintf(big, sizeof(big), "Negotiate %s", resp);
    CHECK(parse_hdr(big, &c) == NGX_EXA_CRED_USER
          && named(&c, "Domain", "User"), "SPNEGO resp with Type 3");

    /* tokens real clients sent */

    CHECK(parse_hdr(curl_t1, &c) == NGX_EXA_CRED_HANDSHAKE, "curl Type 1");
    CHECK(parse_hdr(curl_t3, &c) == NGX_EXA_CRED_USER
          && named(&c, "EXAMPLE", "alice"), "curl --ntlm Type 3");
    CHECK(parse_hdr(gss_init, &c) == NGX_EXA_CRED_HANDSHAKE,
          "gss-ntlmssp NegTokenInit");
    CHECK(parse_hdr(gss_resp, &c) == NGX_EXA_CRED_USER
          && named(&c, "EXAMPLE", "carol"), "gss-ntlmssp NegTokenResp");
    CHECK(parse_hdr(perl_t3, &c) == NGX_EXA_CRED_UNIDENTIFIED
          && strcmp(c.detail, "bad NTLM domain field") == 0,
          "Authen::NTLM with an 8-bit domain under the UNICODE flag");

    /* a Type 3 without Version: payload at 64 */

    n = type3(msg, d, u16("EXAMPLE", d), u, u16("alice", u), 0, 64);
    CHECK(parse("NTLM", msg, n, &c) == NGX_EXA_CRED_USER
          && named(&c, "EXAMPLE", "alice"), "payload at 64");

    /* OEM strings: printable ASCII only */

    n = type3(msg, (const unsigned char *) "EXAMPLE", 7,
              (const unsigned char *) "bob", 3, 1, 72);
    CHECK(parse("NTLM", msg, n, &c) == NGX_EXA_CRED_USER
          && named(&c, "EXAMPLE", "bob"), "OEM");

    n = type3(msg, (const unsigned char *) "EX", 2,
              (const unsigned char *) "b\xe9", 2, 1, 72);
    CHECK(parse("NTLM", msg, n, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "OEM high bit");

    /* UTF-16: non-ASCII, surrogate pairs, hostile forms */

    memcpy(u, "j\0\xf6\0r\0g\0", 8);
    n = type3(msg, d, 0, u, 8, 0, 72);
    CHECK(parse("NTLM", msg, n, &c) == NGX_EXA_CRED_USER
          && named(&c, "", "j\xc3\xb6rg"), "UTF-16 to UTF-8");

    memcpy(u, "a\0\x3d\xd8\x00\xde", 6);     /* a U+1F600 */
    n = type3(msg, d, 0, u, 6, 0, 72);
    CHECK(parse("NTLM", msg, n, &c) == NGX_EXA_CRED_USER
          && named(&c, "", "a\xf0\x9f\x98\x80"), "surrogate pair");

    memcpy(u, "a\0\x3d\xd8", 4);             /* unpaired high */
    n = type3(msg, d, 0, u, 4, 0, 72);
    CHECK(parse("NTLM", msg, n, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "unpaired high surrogate");

    memcpy(u, "\x00\xde" "a\0", 4);          /* lone low */
    n = type3(msg, d, 0, u, 4, 0, 72);
    CHECK(parse("NTLM", msg, n, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "lone low surrogate");

    memcpy(u, "a\0b\0c", 5);                 /* odd length */
    n = type3(msg, d, 0, u, 5, 0, 72);
    CHECK(parse("NTLM", msg, n, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "odd UTF-16 length");

    memcpy(u, "a\0\0\0b\0", 6);              /* U+0000 */
    n = type3(msg, d, 0, u, 6, 0, 72);
    CHECK(parse("NTLM", msg, n, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "NUL in the name");

    n = type3(msg, d, u16("EXAMPLE", d), u, 0, 0, 72);
    CHECK(parse("NTLM", msg, n, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "anonymous");

    for (i = 0; i < 300; i++) {
        u[2 * i] = 'a';
        u[2 * i + 1] = 0;
    }
    n = type3(msg, d, 0, u, 600, 0, 72);
    CHECK(parse("NTLM", msg, n, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "user name over the cap");

    /* security buffers pointing out of the message */

    n = type3(msg, d, u16("EXAMPLE", d), u, u16("alice", u), 0, 72);

    memcpy(tok, msg, n);
    put32(tok + 40, (uint32_t) n);           /* user past the end */
    CHECK(parse("NTLM", tok, n, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "offset at the end");

    memcpy(tok, msg, n);
    put32(tok + 40, 0xfffffff0);             /* offset + len wraps 32 bits */
    CHECK(parse("NTLM", tok, n, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "offset that wraps");

    memcpy(tok, msg, n);
    put16(tok + 36, 0xffff);                 /* length past the end */
    CHECK(parse("NTLM", tok, n, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "length past the end");

    memcpy(tok, msg, n);
    put32(tok + 40, 8);                      /* inside the header */
    CHECK(parse("NTLM", tok, n, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "offset inside the header");

    memcpy(tok, msg, n);
    put16(tok + 38, 2);                      /* MaxLen < Len is ignored */
    CHECK(parse("NTLM", tok, n, &c) == NGX_EXA_CRED_USER,
          "MaxLen is ignored");

    CHECK(parse("NTLM", msg, 63, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "shorter than the fixed header");

    memcpy(tok, msg, n);
    tok[7] = 'X';
    CHECK(parse("NTLM", tok, n, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "bad signature");

    memcpy(tok, msg, n);
    put32(tok + 8, 2);
    CHECK(parse("NTLM", tok, n, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "a Type 2 from a client");

    CHECK(parse("NTLM", msg, 11, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "11 bytes");

    memset(tok, 0, sizeof(tok));
    memcpy(tok, msg, n);
    CHECK(parse("NTLM", tok, NGX_EXA_NTLM_MAX + 1, &c)
          == NGX_EXA_CRED_UNIDENTIFIED, "over the NTLM size cap");

    /* every truncation of a valid message fails cleanly */

    for (i = 0; i < n; i++) {
        m = parse("NTLM", msg, i, &c);
        CHECK(m != NGX_EXA_CRED_USER,
              "truncated at %zu still names someone", i);
    }

    /* SPNEGO built around a Type 3 */

    n = type3(msg, d, u16("EXAMPLE", d), u, u16("carol", u), 0, 72);

    m = der(0x04, msg, n, tok);              /* responseToken */
    m = der(0xa2, tok, m, tok);
    m = der(0x30, tok, m, tok);
    m = der(0xa1, tok, m, tok);
    CHECK(parse("Negotiate", tok, m, &c) == NGX_EXA_CRED_USER
          && named(&c, "EXAMPLE", "carol"), "NegTokenResp built");

    /* negState and supportedMech before the token, mechListMIC after */
    {
        unsigned char  s[8192], *q;

        q = s;
        q += der(0xa0, (const unsigned char *) "\x0a\x01\x01", 3, q);
        q += der(0xa1, (const unsigned char *)
                 "\x06\x0a\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a", 12, q);
        m = der(0x04, msg, n, tok);
        q += der(0xa2, tok, m, q);
        q += der(0xa3, (const unsigned char *) "\x04\x02xy", 4, q);
        m = der(0x30, s, q - s, tok);
        m = der(0xa1, tok, m, tok);
        CHECK(parse("Negotiate", tok, m, &c) == NGX_EXA_CRED_USER
              && named(&c, "EXAMPLE", "carol"), "NegTokenResp, all fields");

        /* the same with the fields out of order */
        q = s;
        m = der(0x04, msg, n, tok);
        q += der(0xa2, tok, m, q);
        q += der(0xa0, (const unsigned char *) "\x0a\x01\x01", 3, q);
        m = der(0x30, s, q - s, tok);
        m = der(0xa1, tok, m, tok);
        CHECK(parse("Negotiate", tok, m, &c) == NGX_EXA_CRED_UNIDENTIFIED,
              "fields out of order");

        /* two tokens */
        q = s;
        m = der(0x04, msg, n, tok);
        q += der(0xa2, tok, m, q);
        q += der(0xa2, tok, m, q);
        m = der(0x30, s, q - s, tok);
        m = der(0xa1, tok, m, tok);
        CHECK(parse("Negotiate", tok, m, &c) == NGX_EXA_CRED_UNIDENTIFIED,
              "duplicate token");

        /* an unknown higher tag is skipped */
        q = s;
        m = der(0x04, msg, n, tok);
        q += der(0xa2, tok, m, q);
        q += der(0xa7, (const unsigned char *) "\x05\x00", 2, q);
        m = der(0x30, s, q - s, tok);
        m = der(0xa1, tok, m, tok);
        CHECK(parse("Negotiate", tok, m, &c) == NGX_EXA_CRED_USER,
              "unknown tag skipped");

        /* a BIT STRING where the OCTET STRING should be */
        q = s;
        m = der(0x03, msg, n, tok);
        q += der(0xa2, tok, m, q);
        m = der(0x30, s, q - s, tok);
        m = der(0xa1, tok, m, tok);
        CHECK(parse("Negotiate", tok, m, &c) == NGX_EXA_CRED_UNIDENTIFIED,
              "BIT STRING token");

        /* no token: the handshake is not done */
        q = s;
        q += der(0xa0, (const unsigned char *) "\x0a\x01\x00", 3, q);
        m = der(0x30, s, q - s, tok);
        m = der(0xa1, tok, m, tok);
        CHECK(parse("Negotiate", tok, m, &c) == NGX_EXA_CRED_HANDSHAKE,
              "accept-completed without a token");
    }

    /* DER length forms */

    m = b64dec(resp, tok);
    tok[1] = 0x80;                            /* indefinite */
    CHECK(parse("Negotiate", tok, m, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "indefinite length");

    m = b64dec(resp, tok);
    tok[1] = 0x85;                            /* 5 length octets */
    CHECK(parse("Negotiate", tok, m, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "five length octets");

    m = b64dec(resp, tok);                    /* 81 B5 -> 82 00 B5 */
    memmove(tok + 4, tok + 3, m - 3);
    tok[1] = 0x82;
    tok[2] = 0x00;
    tok[3] = 0xb5;
    CHECK(parse("Negotiate", tok, m + 1, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "leading zero length octet");

    m = b64dec(resp, tok);
    tok[2] = 0xb6;                            /* one byte longer than it is */
    CHECK(parse("Negotiate", tok, m, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "length beyond the buffer");

    m = b64dec(resp, tok);
    tok[0] = 0xbf;                            /* high tag number form */
    CHECK(parse("Negotiate", tok, m, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "high tag number");

    m = b64dec(resp, tok);
    for (i = 0; i < m; i++) {
        CHECK(parse("Negotiate", tok, i, &c) != NGX_EXA_CRED_USER,
              "SPNEGO truncated at %zu names someone", i);
    }

    /* Kerberos: nobody can be named */

    {
        static const unsigned char  krb[] = {
            0x60, 0x11, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12,
            0x01, 0x02, 0x02, 0x01, 0x00, 0x6e, 0x02, 0x30, 0x00
        };

        CHECK(parse("Negotiate", krb, sizeof(krb), &c)
              == NGX_EXA_CRED_UNIDENTIFIED
              && strcmp(c.detail, "kerberos") == 0, "raw Kerberos");

        /* SPNEGO init whose mechToken is that Kerberos token */
        m = der(0x04, krb, sizeof(krb), tok);
        m = der(0xa2, tok, m, tok);
        m = der(0x30, tok, m, tok);
        m = der(0xa0, tok, m, tok);
        memmove(tok + 8, tok, m);
        memcpy(tok, "\x06\x06\x2b\x06\x01\x05\x05\x02", 8);
        m = der(0x60, tok, m + 8, tok);
        CHECK(parse("Negotiate", tok, m, &c) == NGX_EXA_CRED_UNIDENTIFIED
              && strcmp(c.detail, "kerberos") == 0, "SPNEGO Kerberos");

        /* nested SPNEGO */
        n = b64dec(init, msg);
        m = der(0x04, msg, n, tok);
        m = der(0xa2, tok, m, tok);
        m = der(0x30, tok, m, tok);
        m = der(0xa0, tok, m, tok);
        memmove(tok + 8, tok, m);
        memcpy(tok, "\x06\x06\x2b\x06\x01\x05\x05\x02", 8);
        m = der(0x60, tok, m + 8, tok);
        CHECK(parse("Negotiate", tok, m, &c) == NGX_EXA_CRED_UNIDENTIFIED
              && strcmp(c.detail, "nested SPNEGO") == 0, "nested SPNEGO");
    }

    /* deep nesting: no recursion to exhaust */
    memset(tok, 0xa0, 4000);
    for (i = 1; i < 4000; i += 2) {
        tok[i] = 0x7f;
    }
    CHECK(parse("Negotiate", tok, 4000, &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "deep garbage");

    /* Bearer */

    CHECK(bearer("{\"aud\":\"x\",\"upn\":\"alice@contoso.com\"}", &c)
          == NGX_EXA_CRED_USER && named(&c, "", "alice@contoso.com"), "upn");
    CHECK(bearer("{\"unique_name\":\"bob@contoso.com\",\"upn\":\"alice@contoso.com\"}",
                 &c) == NGX_EXA_CRED_USER
          && named(&c, "", "alice@contoso.com"), "upn before unique_name");
    CHECK(bearer("{\"preferred_username\":\"carol@contoso.com\"}", &c)
          == NGX_EXA_CRED_USER && named(&c, "", "carol@contoso.com"),
          "preferred_username");
    CHECK(bearer("{\"upn\":\"\\u0061lice@contoso.com\",\"n\":[1,2.5e3,-0,true,false,null,{\"a\":[]}]}",
                 &c) == NGX_EXA_CRED_USER
          && named(&c, "", "alice@contoso.com"), "escapes and all types");
    CHECK(bearer("{\"upn\":\"j\\u00f6rg@contoso.com\"}", &c)
          == NGX_EXA_CRED_USER && named(&c, "", "j\xc3\xb6rg@contoso.com"),
          "unicode escape");
    CHECK(bearer("{\"upn\":\"x\\ud83d\\ude00\"}", &c) == NGX_EXA_CRED_USER
          && named(&c, "", "x\xf0\x9f\x98\x80"), "surrogate escape");

    CHECK(bearer("{\"upn\":\"a@x\",\"upn\":\"b@x\"}", &c)
          == NGX_EXA_CRED_UNIDENTIFIED, "duplicate upn");
    CHECK(bearer("{\"upn\":42}", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "upn not a string");
    CHECK(bearer("{\"upn\":\"\"}", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "empty upn");
    CHECK(bearer("{\"sub\":\"x\"}", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "no name claim");
    CHECK(bearer("{\"upn\":\"a\\ud800\"}", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "unpaired surrogate escape");
    CHECK(bearer("{\"upn\":\"a\xff\"}", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "invalid UTF-8");
    CHECK(bearer("{\"upn\":\"a\xc0\xaf\"}", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "overlong UTF-8");
    CHECK(bearer("{\"upn\":\"a\tb\"}", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "raw control character");
    CHECK(bearer("{\"upn\":\"a@x\",}", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "trailing comma");
    CHECK(bearer("{\"upn\":\"a@x\"} x", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "trailing garbage");
    CHECK(bearer("[\"upn\",\"a@x\"]", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "not an object");
    CHECK(bearer("{\"n\":01,\"upn\":\"a@x\"}", &c)
          == NGX_EXA_CRED_UNIDENTIFIED, "leading zero");
    CHECK(bearer("{\"x\":{\"upn\":\"a@x\"}}", &c)
          == NGX_EXA_CRED_UNIDENTIFIED, "nested upn does not count");

    memset(big, '[', sizeof(big));
    memcpy(big, "{\"a\":", 5);
    big[2000] = '\0';
    CHECK(bearer(big, &c) == NGX_EXA_CRED_UNIDENTIFIED, "nesting bomb");

    memset(big, 'a', 600);
    memcpy(big, "{\"upn\":\"", 8);
    memcpy(big + 500, "\"}", 3);
    CHECK(bearer(big, &c) == NGX_EXA_CRED_UNIDENTIFIED, "upn too long");

    CHECK(parse_hdr("Bearer abc.def", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "two segments");
    CHECK(parse_hdr("Bearer a.b.c.d", &c) == NGX_EXA_CRED_UNIDENTIFIED,
          "four segments");
    CHECK(parse_hdr("Bearer eyJhbGciOiJub25lIn0.eyJ1cG4iOiJhQHgifQ.", &c)
          == NGX_EXA_CRED_UNIDENTIFIED, "unsigned");
    CHECK(parse_hdr("Bearer eyJhbGciOiJub25lIn0.eyJ1cG4iOiJhQHgifQ==.c2ln",
                    &c) == NGX_EXA_CRED_UNIDENTIFIED, "padding");
    CHECK(parse_hdr("Bearer eyJhbGciOiJub25lIn0.eyJ1cG4iOiJhQHgifQ.c2ln", &c)
          == NGX_EXA_CRED_USER && named(&c, "", "a@x"), "minimal token");
    CHECK(parse_hdr("Bearer eyJhbGciOiJub25lIn0..c2ln", &c)
          == NGX_EXA_CRED_UNIDENTIFIED, "empty payload");

    /* the claim order is configurable */
    {
        ngx_exa_str_t        claims[1] = {
            { 5, (const unsigned char *) "email" }
        };
        ngx_exa_cred_conf_t  conf = { claims, 1 };

        strcpy(big, "Bearer ");
        jwt("{\"upn\":\"a@x\",\"email\":\"b@y\"}", big + 7);
        CHECK(ngx_exa_credential_parse(&conf, (const unsigned char *) big,
                                       strlen(big), work, sizeof(work), &c)
              == NGX_EXA_CRED_USER && named(&c, "", "b@y"), "email only");
    }

    /* oversized headers */
    memset(big, 'A', sizeof(big));
    memcpy(big, "NTLM ", 5);
    big[sizeof(big) - 1] = '\0';
    CHECK(parse_hdr(big, &c) == NGX_EXA_CRED_UNIDENTIFIED, "long garbage");

    ntlm_differential();
    utf16_differential();

    printf("test_ntlm: %d headers parsed the fast and the full way, %d "
           "users named by the fast path\n", fast_checked, fast_taken);

    CHECK(fast_taken > 1000, "the fast path is taken");

    UNIT_DONE("test_ntlm");
}
