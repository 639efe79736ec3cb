/*
 * Name normalisation: the forms a credential or a list line may take.
 */

#include "unit.h"
#include "ngx_exa_name.h"


static ngx_exa_str_t  ours[] = {
    { 7, (const unsigned char *) "example" },
    { 11, (const unsigned char *) "example.com" },
    { 12, (const unsigned char *) "example.test" }
};


static int
key(const ngx_exa_name_conf_t *nc, const char *d, const char *u, char *out)
{
    int            rc;
    size_t         klen;
    unsigned char  k[NGX_EXA_KEY_MAX];

    rc = ngx_exa_name_key(nc, (const unsigned char *) d, strlen(d),
                          (const unsigned char *) u, strlen(u), k, &klen);

    memcpy(out, k, klen);
    out[klen] = '\0';

    return rc;
}


#define KEY(nc, d, u, want_rc, want)                                         \
    do {                                                                     \
        char  got[NGX_EXA_KEY_MAX + 1];                                      \
        int   rc = key(nc, d, u, got);                                       \
        CHECK(rc == want_rc, "%s|%s: rc %d, want %d", d, u, rc, want_rc);    \
        if (rc == 0) {                                                       \
            CHECK(strcmp(got, want) == 0, "%s|%s: key \"%s\", want \"%s\"",  \
                  d, u, got, want);                                          \
        }                                                                    \
    } while (0)


/*
 * Names made of the pieces the fast path must tell apart, with and
 * without a domain, under three configurations: where the fast path of
 * ngx_exa_name_resolve() answers, ngx_exa_name_resolve_full() answers the
 * same.
 */

static const char  *name_pieces[] = {
    "alice", "BOB", "a", "Z", "0", "@", "@", "\\", ".", "-", "_", " ", "\"",
    "/", "[", ":", ";", "|", "=", ",", "+", "*", "?", "<", ">", "\x7f",
    "\x01", "\xc3\xa9", "\xef\xbc\xa0", "\xc0\xaf", "example",
    "EXAMPLE.COM", "child", "{", "~", "!", "#", "`", "'"
};

static void
name_differential(void)
{
    int                  i, j, m, k, c, rc, rc2;
    char                 d[64], u[300];
    size_t               dn, un, klen, klen2, group, group2;
    unsigned int         seed;
    unsigned char        key1[NGX_EXA_KEY_MAX], key2[NGX_EXA_KEY_MAX];
    ngx_exa_str_t        two[] = {
        { 7, (const unsigned char *) "example" },
        { 11, (const unsigned char *) "example.com" },
        { 5, (const unsigned char *) "child" },
        { 17, (const unsigned char *) "child.example.com" }
    };
    size_t               groups[] = { 0, 0, 2, 2 };
    ngx_exa_name_conf_t  confs[3] = {
        { NULL, 0, NULL }, { ours, 3, NULL }, { two, 4, groups }
    };

    seed = 11;

    for (i = 0; i < 300000; i++) {
        dn = 0;
        un = 0;
        m = (int) ((seed = seed * 1103515245 + 12345) >> 16) % 3;

        for (j = 0; j < m; j++) {
            k = (int) ((seed = seed * 1103515245 + 12345) >> 16)
                % (int) (sizeof(name_pieces) / sizeof(name_pieces[0]));
            dn += snprintf(d + dn, sizeof(d) - dn, "%s", name_pieces[k]);
        }

        m = (int) ((seed = seed * 1103515245 + 12345) >> 16) % 5;

        for (j = 0; j < m; j++) {
            k = (int) ((seed = seed * 1103515245 + 12345) >> 16)
                % (int) (sizeof(name_pieces) / sizeof(name_pieces[0]));
            un += snprintf(u + un, sizeof(u) - un, "%s", name_pieces[k]);
        }

        if (i % 1000 == 999) {
            memset(u, 'a', 257);
            un = 256 + i % 2;
        }

        c = i % 3;

        rc = ngx_exa_name_resolve(&confs[c], (unsigned char *) d, dn,
                                  (unsigned char *) u, un, key1, &klen,
                                  &group);
        rc2 = ngx_exa_name_resolve_full(&confs[c], (unsigned char *) d, dn,
                                        (unsigned char *) u, un, key2,
                                        &klen2, &group2);

        CHECK(rc == rc2 && klen == klen2 && group == group2
              && memcmp(key1, key2, klen) == 0,
              "%.*s|%.*s (conf %d): fast %d %zu %zd, full %d %zu %zd",
              (int) dn, d, (int) un, u, c, rc, klen, (ssize_t) group, rc2,
              klen2, (ssize_t) group2);
    }
}


/*
 * The fast path of names of letters, digits, ".", "-" and "_" (sixteen
 * bytes at a time, overlapping): names of every length up to past the
 * limit, of those bytes, with one byte of any value at any place or none,
 * answer as ngx_exa_name_resolve_full() does
 */

static void
plain_differential(void)
{
    int                  i, c, rc, rc2;
    size_t               n, len, klen, klen2, group, group2;
    unsigned int         seed;
    unsigned char        u[300], key1[NGX_EXA_KEY_MAX], key2[NGX_EXA_KEY_MAX];
    size_t               groups[] = { 0, 0, 2, 2 };
    ngx_exa_str_t        two[] = {
        { 7, (const unsigned char *) "example" },
        { 11, (const unsigned char *) "example.com" },
        { 5, (const unsigned char *) "child" },
        { 17, (const unsigned char *) "child.example.com" }
    };
    ngx_exa_name_conf_t  confs[3] = {
        { NULL, 0, NULL }, { ours, 3, NULL }, { two, 4, groups }
    };
    static const char    plain[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_";

    seed = 7;

#define RND(n)  ((size_t) ((seed = seed * 1103515245 + 12345) >> 16) % (n))

    for (i = 0; i < 200000; i++) {
        len = (i % 100 == 99) ? 240 + RND(20) : RND(41);

        for (n = 0; n < len; n++) {
            u[n] = (unsigned char) plain[RND(sizeof(plain) - 1)];
        }

        if (len && RND(2)) {
            n = RND(len);
            u[n] = (unsigned char) RND(256);
        }

        c = i % 3;

        rc = ngx_exa_name_resolve(&confs[c], NULL, 0, u, len, key1, &klen,
                                  &group);
        rc2 = ngx_exa_name_resolve_full(&confs[c], NULL, 0, u, len, key2,
                                        &klen2, &group2);

        CHECK(rc == rc2 && klen == klen2 && group == group2
              && memcmp(key1, key2, klen) == 0,
              "plain %.*s (conf %d): fast %d %zu %zd, full %d %zu %zd",
              (int) len, u, c, rc, klen, (ssize_t) group, rc2, klen2,
              (ssize_t) group2);
    }

#undef RND
}

int
main(void)
{
    char                 longname[400];
    ngx_exa_name_conf_t  any, ours_only;

    any.domains = NULL;
    any.ndomains = 0;
    any.groups = NULL;
    ours_only.domains = ours;
    ours_only.ndomains = 3;
    ours_only.groups = NULL;

    /* the three forms, any case */
    KEY(&any, "", "alice", NGX_EXA_NAME_OK, "alice");
    KEY(&any, "", "ALICE", NGX_EXA_NAME_OK, "alice");
    KEY(&any, "", "EXAMPLE\\Alice", NGX_EXA_NAME_OK, "alice");
    KEY(&any, "", "Alice@Example.COM", NGX_EXA_NAME_OK, "alice@example.com");
    KEY(&any, "EXAMPLE", "Alice", NGX_EXA_NAME_OK, "alice");
    KEY(&any, "example.com", "alice", NGX_EXA_NAME_OK, "alice");

    /* non-ASCII is kept byte for byte, ASCII lowered */
    KEY(&any, "", "J\xc3\x96RG", NGX_EXA_NAME_OK, "j\xc3\x96rg");

    /* domains: ours or foreign */
    KEY(&ours_only, "", "EXAMPLE\\alice", NGX_EXA_NAME_OK, "alice");
    KEY(&ours_only, "Example", "alice", NGX_EXA_NAME_OK, "alice");
    KEY(&ours_only, "", "alice@EXAMPLE.test", NGX_EXA_NAME_OK,
        "alice@example.test");
    KEY(&ours_only, "", "alice", NGX_EXA_NAME_OK, "alice");
    KEY(&ours_only, "", "EVIL\\alice", NGX_EXA_NAME_FOREIGN, "");
    KEY(&ours_only, "EVIL", "alice", NGX_EXA_NAME_FOREIGN, "");
    KEY(&ours_only, "", "alice@evil.com", NGX_EXA_NAME_FOREIGN, "");
    KEY(&ours_only, "", "alice@example.com.evil", NGX_EXA_NAME_FOREIGN, "");
    KEY(&ours_only, "", "alice@xexample.com", NGX_EXA_NAME_FOREIGN, "");

    /* empty and malformed */
    KEY(&any, "", "", NGX_EXA_NAME_EMPTY, "");
    KEY(&any, "", "EXAMPLE\\", NGX_EXA_NAME_EMPTY, "");
    KEY(&any, "", "\\alice", NGX_EXA_NAME_INVALID, "");
    KEY(&any, "", "a\\b\\c", NGX_EXA_NAME_INVALID, "");
    KEY(&any, "", "@example.com", NGX_EXA_NAME_INVALID, "");
    KEY(&any, "", "alice@", NGX_EXA_NAME_INVALID, "");
    KEY(&any, "", "a@b@example.com", NGX_EXA_NAME_INVALID, "");
    KEY(&any, "EXAMPLE", "alice@example.com", NGX_EXA_NAME_INVALID, "");
    KEY(&any, "EXAMPLE", "EXAMPLE\\alice", NGX_EXA_NAME_INVALID, "");
    KEY(&any, "", "ali ce", NGX_EXA_NAME_INVALID, "");
    KEY(&any, "", "alice\tx", NGX_EXA_NAME_INVALID, "");
    KEY(&any, "", "ali:ce", NGX_EXA_NAME_INVALID, "");
    KEY(&any, "", "ali/ce", NGX_EXA_NAME_INVALID, "");
    KEY(&any, "", "ali*", NGX_EXA_NAME_INVALID, "");
    KEY(&any, "EX AMPLE", "alice", NGX_EXA_NAME_INVALID, "");

    /* hostile UTF-8 */
    KEY(&any, "", "ali\xc3", NGX_EXA_NAME_INVALID, "");          /* cut */
    KEY(&any, "", "ali\xc0\xae", NGX_EXA_NAME_INVALID, "");      /* overlong */
    KEY(&any, "", "\xed\xa0\x80x", NGX_EXA_NAME_INVALID, "");    /* surrogate */
    KEY(&any, "", "\xf4\x90\x80\x80", NGX_EXA_NAME_INVALID, ""); /* > 10ffff */
    KEY(&any, "", "a\xc2\x85", NGX_EXA_NAME_INVALID, "");        /* C1 NEL */
    KEY(&any, "", "EXAMPLE\xef\xbc\xbc" "alice", NGX_EXA_NAME_INVALID, "");
    KEY(&any, "", "alice\xef\xbc\xa0" "example.com", NGX_EXA_NAME_INVALID,
        "");
    KEY(&any, "", "\xff", NGX_EXA_NAME_INVALID, "");

    /* embedded NUL */
    {
        size_t         klen;
        unsigned char  k[NGX_EXA_KEY_MAX];

        CHECK(ngx_exa_name_key(&any, NULL, 0, (const unsigned char *) "al\0ce",
                               5, k, &klen)
              == NGX_EXA_NAME_INVALID, "NUL in a name");
    }

    /* length limit */
    memset(longname, 'a', sizeof(longname));
    longname[NGX_EXA_KEY_MAX] = '\0';
    KEY(&any, "", longname, NGX_EXA_NAME_OK, longname);
    longname[NGX_EXA_KEY_MAX] = 'a';
    longname[NGX_EXA_KEY_MAX + 1] = '\0';
    KEY(&any, "", longname, NGX_EXA_NAME_INVALID, "");

    /* groups of domains: which group a credential's name is from */
    {
        size_t               group, klen;
        unsigned char        k[NGX_EXA_KEY_MAX];
        ngx_exa_str_t        two[] = {
            { 7, (const unsigned char *) "example" },
            { 11, (const unsigned char *) "example.com" },
            { 5, (const unsigned char *) "child" },
            { 17, (const unsigned char *) "child.example.com" }
        };
        size_t               groups[] = { 0, 0, 2, 2 };
        ngx_exa_name_conf_t  nc = { two, 4, groups };

#define GROUP(d, u, want_rc, want_group)                                     \
        do {                                                                 \
            int  rc_ = ngx_exa_name_resolve(&nc, (const unsigned char *) d,  \
                                            strlen(d),                       \
                                            (const unsigned char *) u,       \
                                            strlen(u), k, &klen, &group);    \
            CHECK(rc_ == want_rc && (rc_ != 0 || group == want_group),       \
                  "%s|%s: rc %d group %zd, want %d %zd", d, u, rc_,          \
                  (ssize_t) group, want_rc, (ssize_t) (want_group));         \
        } while (0)

        GROUP("", "alice", NGX_EXA_NAME_OK, 0);
        GROUP("EXAMPLE", "alice", NGX_EXA_NAME_OK, 0);
        GROUP("example.com", "alice", NGX_EXA_NAME_OK, 0);
        GROUP("CHILD", "alice", NGX_EXA_NAME_OK, 2);
        GROUP("Child.Example.Com", "alice", NGX_EXA_NAME_OK, 2);
        GROUP("", "CHILD\\alice", NGX_EXA_NAME_OK, 2);
        GROUP("", "child.example.com\\alice", NGX_EXA_NAME_OK, 2);
        GROUP("", "EXAMPLE\\alice", NGX_EXA_NAME_OK, 0);
        GROUP("OTHER", "alice", NGX_EXA_NAME_FOREIGN, 0);
        GROUP("", "OTHER\\alice", NGX_EXA_NAME_FOREIGN, 0);
        GROUP("", "alice@child.example.com", NGX_EXA_NAME_OK,
              NGX_EXA_NAME_ANY_DOMAIN);
        GROUP("", "alice@other.example", NGX_EXA_NAME_FOREIGN, 0);
        GROUP("", "alice", NGX_EXA_NAME_OK, 0);

        nc.ndomains = 0;
        GROUP("", "alice", NGX_EXA_NAME_OK, NGX_EXA_NAME_ANY_DOMAIN);
        GROUP("ANY", "alice", NGX_EXA_NAME_OK, NGX_EXA_NAME_ANY_DOMAIN);

        /* a flat list without groups: every name of the first group */
        nc.ndomains = 4;
        nc.groups = NULL;
        GROUP("child", "alice", NGX_EXA_NAME_OK, 0);
    }

    /* list lines: the NetBIOS domain is kept as a tag of the key */
    {
        size_t         klen;
        unsigned char  k[NGX_EXA_KEY_MAX];

#define ENTRY(line, want_rc, want)                                           \
        do {                                                                 \
            int  rc_ = ngx_exa_name_entry((const unsigned char *) line,      \
                                          strlen(line), k, &klen);           \
            CHECK(rc_ == want_rc                                             \
                  && (rc_ != 0 || (klen == strlen(want)                      \
                                   && memcmp(k, want, klen) == 0)),          \
                  "entry %s: rc %d \"%.*s\", want %d \"%s\"", line, rc_,    \
                  (int) klen, k, want_rc, want);                             \
        } while (0)

        ENTRY("Alice", NGX_EXA_NAME_OK, "alice");
        ENTRY("EXAMPLE\\Alice", NGX_EXA_NAME_OK, "example\\alice");
        ENTRY("Child\\BOB", NGX_EXA_NAME_OK, "child\\bob");
        ENTRY("Erin@Example.COM", NGX_EXA_NAME_OK, "erin@example.com");
        ENTRY("example.com\\alice", NGX_EXA_NAME_NOT_NETBIOS, "");
        ENTRY("ABCDEFGHIJKLMNOP\\alice", NGX_EXA_NAME_NOT_NETBIOS, "");
        ENTRY("ABCDEFGHIJKLMNO\\alice", NGX_EXA_NAME_OK,
              "abcdefghijklmno\\alice");
        ENTRY("EXAMPLE\\alice@example.com", NGX_EXA_NAME_INVALID, "");
        ENTRY("\\alice", NGX_EXA_NAME_INVALID, "");
        ENTRY("EXAMPLE\\", NGX_EXA_NAME_EMPTY, "");
        ENTRY("A\\B\\c", NGX_EXA_NAME_INVALID, "");
        ENTRY("EX AMPLE\\alice", NGX_EXA_NAME_INVALID, "");

        /* a key read back (the state file) is the same key */
        ENTRY("example\\alice", NGX_EXA_NAME_OK, "example\\alice");
        ENTRY("erin@example.com", NGX_EXA_NAME_OK, "erin@example.com");
    }

    /* NetBIOS names */
    CHECK(ngx_exa_netbios_valid((const unsigned char *) "EXAMPLE", 7),
          "netbios");
    CHECK(!ngx_exa_netbios_valid((const unsigned char *) "ex.ample", 8),
          "a dot is no NetBIOS name");
    CHECK(!ngx_exa_netbios_valid((const unsigned char *) "", 0),
          "empty NetBIOS name");

    /* the log escaping: one line, nothing raw a client chose */
    {
        int            b;
        size_t         n, i;
        const char    *want;
        unsigned char  in[256], out[1024];

        n = ngx_exa_log_escape(out, (const unsigned char *)
                               "a\"b\\c\r\nFAKE\x7f\xc3\xbc\x01 ok", 18);
        want = "a\\x22b\\x5Cc\\x0D\\x0AFAKE\\x7F\\xC3\\xBC\\x01 ok";
        CHECK(n == strlen(want) && memcmp(out, want, n) == 0,
              "escaped \"%.*s\"", (int) n, out);

        for (b = 0; b < 256; b++) {
            in[b] = (unsigned char) b;
        }

        n = ngx_exa_log_escape(NULL, in, 256);
        CHECK(n == ngx_exa_log_escape(out, in, 256) && n <= 4 * 256,
              "count and write agree");

        for (i = 0; i < n; i++) {
            if (out[i] < 0x20 || out[i] >= 0x7f || out[i] == '"') {
                break;
            }
        }

        CHECK(i == n, "no raw control, quote or high byte is left");
        CHECK(ngx_exa_log_escape(NULL, (const unsigned char *) "alice", 5)
              == 5, "a plain name stays as it is");
    }

    name_differential();
    plain_differential();

    UNIT_DONE("test_name");
}
