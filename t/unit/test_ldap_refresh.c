/*
 * The LDAP refresh's logic without nginx: conversations with a directory
 * written out as the server's answers, read by libldap from memory.
 * Message IDs follow the requests: the bind is 1, then each search in the
 * order the refresh sends them.
 */

#include <stdint.h>

#include "unit.h"
#include "ldap_wire.h"
#include "ngx_exa_ldap_refresh.h"


#define G1  "cn=remote,ou=groups,dc=example,dc=com"
#define G2  "cn=nested,ou=groups,dc=example,dc=com"
#define U(n)  "uid=" n ",ou=people,dc=example,dc=com"


static const char  *groups1[] = { G1 };
static const char  *attrs[] = { "sAMAccountName", "userPrincipalName", NULL };


typedef struct {
    wire_t              w;
    LDAP               *ld;
    ngx_exa_lr_t       *r;
    ngx_exa_lr_conf_t   conf;
    int                 rc;
    int                 calls;
    int                 yields;
    int                 checking;  /* yields while the names are checked */
    ngx_exa_lm_t       *model;      /* recorded, or applied to with dns */
    const ngx_exa_str_t *dns;
    size_t              ndns;
    int                 apply;
} run_t;


static void
conf_init(ngx_exa_lr_conf_t *conf, int nested)
{
    memset(conf, 0, sizeof(ngx_exa_lr_conf_t));

    conf->base = "dc=example,dc=com";
    conf->groups = groups1;
    conf->ngroups = 1;
    conf->nested = nested;
    conf->filter = "";
    conf->attrs = attrs;
    conf->bind_dn = "cn=svc,dc=example,dc=com";
    conf->password = "secret";
    conf->password_len = 6;
}


static void
run_init(run_t *t, int nested)
{
    memset(t, 0, sizeof(run_t));

    t->w.in = malloc(WIRE_MAX);
    conf_init(&t->conf, nested);
}


/* binds, then steps until the wire is read or the refresh ends */

static int
run(run_t *t)
{
    t->ld = wire_ldap(&t->w);
    t->r = ngx_exa_lr_create(&t->conf, t->ld);

    if (t->model && t->apply) {
        if (ngx_exa_lr_apply(t->r, t->model, t->dns, t->ndns) != 0) {
            return t->rc = -1;
        }

    } else if (t->model) {
        ngx_exa_lr_record(t->r, t->model);
    }

    t->rc = ngx_exa_lr_bind(t->r);

    while (t->rc == NGX_EXA_LR_AGAIN || t->rc == NGX_EXA_LR_YIELD) {
        if (t->rc == NGX_EXA_LR_AGAIN && t->w.pos >= t->w.len) {
            break;
        }

        t->rc = ngx_exa_lr_step(t->r);
        t->calls++;
        t->yields += (t->rc == NGX_EXA_LR_YIELD);
        t->checking += (t->rc == NGX_EXA_LR_YIELD
                        && ngx_exa_lr_state(t->r) == NGX_EXA_LR_CHECK_NAMES);

        if (t->calls > 1000000) {
            break;
        }
    }

    return t->rc;
}


static int
has_key(run_t *t, const char *key)
{
    size_t                n, i;
    const ngx_exa_str_t  *k;

    k = ngx_exa_lr_keys(t->r, &n);

    for (i = 0; i < n; i++) {
        if (k[i].len == strlen(key) && memcmp(k[i].data, key, k[i].len) == 0) {
            return 1;
        }
    }

    return 0;
}


static size_t
nkeys(run_t *t)
{
    size_t  n;

    (void) ngx_exa_lr_keys(t->r, &n);

    return n;
}


static void
run_free(run_t *t)
{
    ngx_exa_lr_destroy(t->r);
    ldap_unbind_ext(t->ld, NULL, NULL);
    free(t->w.in);
}


/* chain: one group read (2), the users (3) */

static void
chain(run_t *t)
{
    const char  *g[] = { "member", U("alice"), U("bob"), NULL,
                         "primaryGroupToken", "1105", NULL, NULL };
    const char  *alice[] = { "sAMAccountName", "Alice", NULL,
                             "userPrincipalName", "alice@example.com", NULL,
                             NULL };
    const char  *bob[] = { "sAMAccountName", "bob", NULL, NULL };

    wire_result(&t->w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&t->w, 2, G1, g);
    wire_result(&t->w, 2, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_reference(&t->w, 3, "ldap://other/dc=example,dc=com");
    wire_entry(&t->w, 3, U("alice"), alice);
    wire_entry(&t->w, 3, U("bob"), bob);
    wire_page_done(&t->w, 3, "");
}


static void
test_chain(void)
{
    run_t  t;

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    chain(&t);

    CHECK(run(&t) == NGX_EXA_LR_DONE, "chain: %d %s", t.rc,
          ngx_exa_lr_error(t.r));
    CHECK(nkeys(&t) == 3, "chain: %zu keys", nkeys(&t));
    CHECK(has_key(&t, "alice") && has_key(&t, "alice@example.com")
          && has_key(&t, "bob"), "chain: the names");
    CHECK(ngx_exa_lr_stats(t.r)->ignored == 1, "chain: the reference");

    run_free(&t);

    /* the same answers, one byte a read */

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    chain(&t);
    t.w.chunk = 1;

    CHECK(run(&t) == NGX_EXA_LR_DONE, "chain by bytes: %d %s", t.rc,
          ngx_exa_lr_error(t.r));
    CHECK(nkeys(&t) == 3, "chain by bytes: %zu keys", nkeys(&t));

    run_free(&t);
}


/* walk: the groups (2), G1 (3), G2 found in G1 (4), the users (5, 6) */

static void
test_walk(void)
{
    run_t        t;
    const char  *g1[] = { "member", U("alice"), G2, NULL, NULL };
    const char  *g2[] = { "member", U("carol"), G1, NULL, NULL };
    const char  *alice[] = { "sAMAccountName", "alice", NULL, NULL };
    const char  *bob[] = { "sAMAccountName", "bob", NULL, NULL };
    const char  *carol[] = { "sAMAccountName", "carol", NULL, NULL };

    run_init(&t, NGX_EXA_LDAP_NESTED_WALK);

    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&t.w, 2, G1, (const char *[]) { NULL });
    wire_entry(&t.w, 2, "CN=Nested, OU=Groups,DC=example,DC=com",
               (const char *[]) { NULL });
    wire_page_done(&t.w, 2, "");
    wire_entry(&t.w, 3, G1, g1);
    wire_result(&t.w, 3, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 4, G2, g2);
    wire_result(&t.w, 4, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 5, U("alice"), alice);
    wire_entry(&t.w, 5, U("bob"), bob);
    wire_page_done(&t.w, 5, "page2");
    wire_entry(&t.w, 6, U("carol"), carol);
    wire_page_done(&t.w, 6, "");

    CHECK(run(&t) == NGX_EXA_LR_DONE, "walk: %d %s", t.rc,
          ngx_exa_lr_error(t.r));
    CHECK(nkeys(&t) == 2 && has_key(&t, "alice") && has_key(&t, "carol")
          && !has_key(&t, "bob"), "walk: %zu keys", nkeys(&t));

    run_free(&t);
}


/* Active Directory's ranges of member: 0-1, then 2-* */

static void
test_ranges(void)
{
    run_t        t;
    const char  *r1[] = { "member;range=0-1", U("a"), U("b"), NULL, NULL };
    const char  *r2[] = { "member;range=2-*", U("c"), NULL, NULL };
    const char  *a[] = { "sAMAccountName", "a", NULL, NULL };
    const char  *c[] = { "sAMAccountName", "c", NULL, NULL };

    run_init(&t, NGX_EXA_LDAP_NESTED_WALK);

    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&t.w, 2, G1, (const char *[]) { NULL });
    wire_page_done(&t.w, 2, "");
    wire_entry(&t.w, 3, G1, r1);
    wire_result(&t.w, 3, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 4, G1, r2);
    wire_result(&t.w, 4, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 5, U("a"), a);
    wire_entry(&t.w, 5, U("c"), c);
    wire_page_done(&t.w, 5, "");

    CHECK(run(&t) == NGX_EXA_LR_DONE, "ranges: %d %s", t.rc,
          ngx_exa_lr_error(t.r));
    CHECK(nkeys(&t) == 2, "ranges: %zu keys", nkeys(&t));

    run_free(&t);
}


/*
 * chain: the first range of member is enough, and a group's token counts
 * once whatever the ranges or attributes repeat; a token that is not a
 * number is refused (it would go into the users' filter)
 */

static void
test_tokens(void)
{
    run_t        t;
    const char  *g[] = { "member;range=0-1", U("a"), U("b"), NULL,
                         "primaryGroupToken", "1105", NULL,
                         "primaryGroupToken", "1106", NULL, NULL };
    const char  *bad[] = { "member", U("a"), NULL,
                           "primaryGroupToken", "1)(cn=*", NULL, NULL };
    const char  *a[] = { "sAMAccountName", "a", NULL, NULL };

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);

    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&t.w, 2, G1, g);
    wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 3, U("a"), a);
    wire_page_done(&t.w, 3, "");

    CHECK(run(&t) == NGX_EXA_LR_DONE && nkeys(&t) == 1,
          "one range in chain: %d %s", t.rc, ngx_exa_lr_error(t.r));

    run_free(&t);

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);

    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&t.w, 2, G1, bad);
    wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 3, U("a"), a);
    wire_page_done(&t.w, 3, "");

    CHECK(run(&t) == NGX_EXA_LR_DONE
          && ngx_exa_lr_stats(t.r)->refused == 1,
          "a token that is no number: %d %s", t.rc, ngx_exa_lr_error(t.r));

    run_free(&t);
}


/* a value is exactly what its attribute holds, never a credential */

static void
test_values(void)
{
    run_t        t;
    const char  *u[] = { "sAMAccountName", "EVIL\\admin", "a@b", "ok", NULL,
                         "userPrincipalName", "root", "DOM\\boss",
                         "u@example.com", "x@y@z", NULL,
                         "description", "whatever", NULL, NULL };

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);

    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&t.w, 2, G1, (const char *[]) { "member", U("a"), NULL, NULL });
    wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 3, U("a"), u);
    wire_page_done(&t.w, 3, "");

    CHECK(run(&t) == NGX_EXA_LR_DONE && nkeys(&t) == 2
          && has_key(&t, "ok") && has_key(&t, "u@example.com")
          && ngx_exa_lr_stats(t.r)->refused == 5,
          "values: %d %s %zu keys, %zu refused", t.rc, ngx_exa_lr_error(t.r),
          nkeys(&t), ngx_exa_lr_stats(t.r)->refused);

    run_free(&t);
}


/* Active Directory: logon names are kept with their domain's NetBIOS name */

static void
test_domains(void)
{
    run_t        t;
    const char  *rootdse[] = { "configurationNamingContext",
                               "CN=Configuration,DC=example,DC=com", NULL,
                               NULL };
    const char  *ex[] = { "nETBIOSName", "EXAMPLE", NULL,
                          "nCName", "DC=example,DC=com", NULL, NULL };
    const char  *ch[] = { "nETBIOSName", "CHILD", NULL,
                          "nCName", "DC=child, DC=example,DC=com", NULL, NULL };
    const char  *bad[] = { "nETBIOSName", "NOT A NAME", NULL,
                           "nCName", "DC=other", NULL, NULL };
    const char  *alice[] = { "sAMAccountName", "alice", NULL,
                             "userPrincipalName", "alice@example.com", NULL,
                             NULL };
    const char  *bob[] = { "sAMAccountName", "Bob", NULL, NULL };
    const char  *x[] = { "sAMAccountName", "x", NULL, NULL };

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    t.conf.domains = 1;

    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&t.w, 2, "", rootdse);
    wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 3, "CN=EXAMPLE,CN=Partitions,CN=Configuration,DC=e", ex);
    wire_entry(&t.w, 3, "CN=CHILD,CN=Partitions,CN=Configuration,DC=e", ch);
    wire_entry(&t.w, 3, "CN=BAD,CN=Partitions,CN=Configuration,DC=e", bad);
    wire_result(&t.w, 3, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 4, G1, (const char *[]) { "member", U("a"), NULL, NULL });
    wire_result(&t.w, 4, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 5, "CN=Alice,CN=Users,DC=example,DC=com", alice);
    wire_entry(&t.w, 5, "CN=Bob,OU=x,DC=Child,DC=Example,DC=Com", bob);
    wire_entry(&t.w, 5, "CN=x,DC=other", x);
    wire_page_done(&t.w, 5, "");

    CHECK(run(&t) == NGX_EXA_LR_DONE && nkeys(&t) == 3
          && has_key(&t, "example\\alice") && has_key(&t, "child\\bob")
          && has_key(&t, "alice@example.com")
          && ngx_exa_lr_stats(t.r)->refused == 2,
          "domains: %d %s %zu keys %zu refused", t.rc, ngx_exa_lr_error(t.r),
          nkeys(&t), ngx_exa_lr_stats(t.r)->refused);

    run_free(&t);

    /* a directory that is no Active Directory: names stay bare */

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    t.conf.domains = 1;

    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&t.w, 2, "", (const char *[]) { NULL });
    wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 3, G1, (const char *[]) { "member", U("a"), NULL, NULL });
    wire_result(&t.w, 3, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 4, U("alice"), alice);
    wire_page_done(&t.w, 4, "");

    CHECK(run(&t) == NGX_EXA_LR_DONE && has_key(&t, "alice"),
          "no domains: %d %s", t.rc, ngx_exa_lr_error(t.r));

    run_free(&t);
}


/* ranges start where they were asked to; only answers are progress */

static void
test_forward(void)
{
    run_t        t;
    const char  *r1[] = { "member;range=0-1", U("a"), U("b"), NULL, NULL };

    run_init(&t, NGX_EXA_LDAP_NESTED_WALK);

    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&t.w, 2, G1, (const char *[]) { NULL });
    wire_page_done(&t.w, 2, "");
    wire_entry(&t.w, 3, G1, r1);
    wire_result(&t.w, 3, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 4, G1, r1);
    wire_result(&t.w, 4, LDAP_RES_SEARCH_RESULT, 0, "");

    CHECK(run(&t) == NGX_EXA_LR_ERROR && ngx_exa_lr_retry(t.r)
          && strstr(ngx_exa_lr_error(t.r), "answered member;range=0-1 when "
                    "asked for member;range=2-*"),
          "a range back: %d %s", t.rc, ngx_exa_lr_error(t.r));

    run_free(&t);

    /* answers behind messages libldap throws away: read in one call */

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    wire_result(&t.w, 999, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_result(&t.w, -5, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 0, G1, (const char *[]) { NULL });
    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");

    t.ld = wire_ldap(&t.w);
    t.r = ngx_exa_lr_create(&t.conf, t.ld);

    CHECK(ngx_exa_lr_bind(t.r) == NGX_EXA_LR_AGAIN
          && ngx_exa_lr_step(t.r) == NGX_EXA_LR_AGAIN
          && ngx_exa_lr_state(t.r) == NGX_EXA_LR_READ_GROUPS,
          "stray messages: %s", ngx_exa_lr_state_name(ngx_exa_lr_state(t.r)));

    run_free(&t);

    /* a continuation reference, and nothing else: no progress */

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");

    t.ld = wire_ldap(&t.w);
    t.r = ngx_exa_lr_create(&t.conf, t.ld);

    CHECK(ngx_exa_lr_bind(t.r) == NGX_EXA_LR_AGAIN
          && ngx_exa_lr_step(t.r) == NGX_EXA_LR_AGAIN
          && ngx_exa_lr_progress(t.r) == 1
          && ngx_exa_lr_progress(t.r) == 0, "the bind is progress");

    wire_reference(&t.w, 2, "ldap://elsewhere/");
    wire_reference(&t.w, 99, "ldap://elsewhere/");

    CHECK(ngx_exa_lr_step(t.r) == NGX_EXA_LR_AGAIN
          && ngx_exa_lr_progress(t.r) == 0, "a reference is no progress");

    wire_entry(&t.w, 2, G1, (const char *[]) { NULL });

    CHECK(ngx_exa_lr_step(t.r) == NGX_EXA_LR_AGAIN
          && ngx_exa_lr_progress(t.r) == 1, "an entry is progress");

    run_free(&t);
}


static void
test_failures(void)
{
    int    i;
    run_t  t;
    char   name[32];

    /* a refused bind: another server may take it */

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    wire_result(&t.w, 1, LDAP_RES_BIND, 49, "bad\npassword");

    CHECK(run(&t) == NGX_EXA_LR_ERROR && ngx_exa_lr_retry(t.r),
          "bind refused: %d", t.rc);
    CHECK(strcmp(ngx_exa_lr_error(t.r), "bind as \"cn=svc,dc=example,dc=com\" "
                 "failed (49: Invalid credentials, bad\\x0apassword)") == 0,
          "bind refused: %s", ngx_exa_lr_error(t.r));

    run_free(&t);

    /* a group that does not exist */

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 32, "");

    CHECK(run(&t) == NGX_EXA_LR_ERROR
          && strstr(ngx_exa_lr_error(t.r), "reading group \"" G1 "\" failed "
                    "(32: No such object)"),
          "no group: %d %s", t.rc, ngx_exa_lr_error(t.r));
    CHECK(ngx_exa_lr_state(t.r) == NGX_EXA_LR_FAILED && !ngx_exa_lr_retry(t.r),
          "no group: the configuration's");

    run_free(&t);

    /* an in-chain search that finds nobody in a group with members */

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&t.w, 2, G1, (const char *[]) { "member", U("a"), NULL, NULL });
    wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_page_done(&t.w, 3, "");

    CHECK(run(&t) == NGX_EXA_LR_ERROR
          && strstr(ngx_exa_lr_error(t.r), "found nobody"),
          "in-chain nobody: %d %s", t.rc, ngx_exa_lr_error(t.r));

    run_free(&t);

    /* an entry that has member twice (and 30,000 times) */

    run_init(&t, NGX_EXA_LDAP_NESTED_WALK);
    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&t.w, 2, G1, (const char *[]) { NULL });
    wire_page_done(&t.w, 2, "");
    wire_entry(&t.w, 3, G1, (const char *[]) { "member", U("a"), NULL,
                                               "member", NULL, NULL });
    wire_result(&t.w, 3, LDAP_RES_SEARCH_RESULT, 0, "");

    CHECK(run(&t) == NGX_EXA_LR_ERROR && ngx_exa_lr_retry(t.r)
          && strstr(ngx_exa_lr_error(t.r), "more than one member attribute"),
          "member twice: %d %s", t.rc, ngx_exa_lr_error(t.r));

    run_free(&t);

    /* more names than the zone can hold: as soon as it is known */

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    t.conf.zone_size = 32768;
    t.conf.table_max = 400;
    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&t.w, 2, G1, (const char *[]) { "member", U("a"), NULL, NULL });
    wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 0, "");

    for (i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "user%d", i);
        wire_entry(&t.w, 3, U("x"), (const char *[]) { "sAMAccountName",
                                                        name, NULL, NULL });
    }

    CHECK(run(&t) == NGX_EXA_LR_ERROR && !ngx_exa_lr_retry(t.r)
          && strstr(ngx_exa_lr_error(t.r), "more names than the zone of "
                    "32768 bytes can hold (") && t.w.pos < t.w.len,
          "too many names: %d %s", t.rc, ngx_exa_lr_error(t.r));

    run_free(&t);

    /* a message that announces 1 GiB: refused at its first bytes */

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    t.conf.message_max = 1 << 20;
    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    memcpy(t.w.in + t.w.len, "\x30\x84\x40\x00\x00\x00\x02\x01\x02", 9);
    t.w.len += 9;
    memset(t.w.in + t.w.len, 0, 1000);
    t.w.len += 1000;

    CHECK(run(&t) == NGX_EXA_LR_ERROR && ngx_exa_lr_retry(t.r)
          && strcmp(ngx_exa_lr_error(t.r), "a message of 1073741830 bytes, "
                    "more than 1 MB") == 0
          && ngx_exa_lr_stats(t.r)->memory < 1 << 20,
          "1 GiB: %d %s", t.rc, ngx_exa_lr_error(t.r));

    run_free(&t);

    /* an operation longer than its message */

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    t.conf.message_max = 1 << 20;
    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    memcpy(t.w.in + t.w.len, "\x30\x0a\x02\x01\x02\x65\x25\x0a\x01\x00"
                             "\x04\x00", 12);
    t.w.len += 12;

    CHECK(run(&t) == NGX_EXA_LR_ERROR
          && strstr(ngx_exa_lr_error(t.r), "not an LDAP answer"),
          "lengths: %d %s", t.rc, ngx_exa_lr_error(t.r));

    run_free(&t);

    /* a message that ends before its operation's length */

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    memcpy(t.w.in + t.w.len, "\x30\x04\x02\x01\x01\x61", 6);
    t.w.len += 6;

    CHECK(run(&t) == NGX_EXA_LR_ERROR
          && strstr(ngx_exa_lr_error(t.r), "not an LDAP answer"),
          "short header: %d %s", t.rc, ngx_exa_lr_error(t.r));

    run_free(&t);

    /* a group read that succeeds without the group */

    run_init(&t, NGX_EXA_LDAP_NESTED_WALK);
    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_page_done(&t.w, 2, "");
    wire_result(&t.w, 3, LDAP_RES_SEARCH_RESULT, 0, "");

    CHECK(run(&t) == NGX_EXA_LR_ERROR
          && strstr(ngx_exa_lr_error(t.r), "group \"" G1 "\" was not "
                    "returned by its base read"),
          "no group entry: %d %s", t.rc, ngx_exa_lr_error(t.r));

    run_free(&t);

    /* busy in the middle of the users: another server may do better */

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&t.w, 2, G1, (const char *[]) { "member", U("a"), NULL, NULL });
    wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 3, U("a"), (const char *[]) { "sAMAccountName", "a",
                                                    NULL, NULL });
    wire_page_done(&t.w, 3, "page2");
    wire_result(&t.w, 4, LDAP_RES_SEARCH_RESULT, 51, "busy");

    CHECK(run(&t) == NGX_EXA_LR_ERROR && ngx_exa_lr_retry(t.r)
          && strstr(ngx_exa_lr_error(t.r), "search failed (51: Server is busy"),
          "busy: %d %s", t.rc, ngx_exa_lr_error(t.r));

    run_free(&t);

    /* an unsolicited notification (ID 0, extended): the server ends it */

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_result(&t.w, 0, LDAP_RES_EXTENDED, 52, "going away");

    CHECK(run(&t) == NGX_EXA_LR_ERROR && ngx_exa_lr_retry(t.r)
          && strstr(ngx_exa_lr_error(t.r), "unsolicited notification"),
          "unsolicited: %d %s", t.rc, ngx_exa_lr_error(t.r));

    run_free(&t);

    /* walk: an empty group gives an empty list */

    run_init(&t, NGX_EXA_LDAP_NESTED_WALK);
    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&t.w, 2, G1, (const char *[]) { NULL });
    wire_page_done(&t.w, 2, "");
    wire_entry(&t.w, 3, G1, (const char *[]) { NULL });
    wire_result(&t.w, 3, LDAP_RES_SEARCH_RESULT, 0, "");

    CHECK(run(&t) == NGX_EXA_LR_DONE && nkeys(&t) == 0,
          "empty group: %d %s", t.rc, ngx_exa_lr_error(t.r));

    run_free(&t);
}


/* a big group read in slices: each call works for at most step_usec */

static void
test_slices(void)
{
    int           i;
    run_t         t;
    char          name[32];
    const char  **g, *u[] = { "sAMAccountName", name, NULL, NULL };

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    t.conf.step_usec = 1;

    g = calloc(20003, sizeof(char *));
    g[0] = "member";

    for (i = 0; i < 20000; i++) {
        g[i + 1] = U("someone");
    }

    wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&t.w, 2, G1, g);
    wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 0, "");

    for (i = 0; i < 200; i++) {
        snprintf(name, sizeof(name), "user%d", i);
        wire_entry(&t.w, 3, U("x"), u);
    }

    wire_page_done(&t.w, 3, "");

    CHECK(run(&t) == NGX_EXA_LR_DONE && nkeys(&t) == 200,
          "slices: %d %s %zu", t.rc, ngx_exa_lr_error(t.r), nkeys(&t));
    CHECK(t.yields > 20, "slices: %d yields", t.yields);

    /* its memory goes back in parts too, the handle unbound before */

    ngx_exa_lr_detach(t.r);
    ldap_unbind_ext(t.ld, NULL, NULL);

    for (i = 1; i < 100 && !ngx_exa_lr_free(t.r, 4096); i++) {
        /* void */
    }

    CHECK(i > 1 && i < 100, "freed in %d parts", i);

    free(t.w.in);
    free(g);
}


/*
 * The names of a big read are checked in slices too (their NetBIOS
 * domains counted): the same keys as in one call
 */

static void
test_check_slices(void)
{
    int           i, step;
    run_t         t;
    char          name[32];
    const char  **g, *u[] = { "sAMAccountName", name, NULL, NULL };

    g = calloc(4, sizeof(char *));
    g[0] = "member";
    g[1] = U("someone");

    for (step = 0; step < 2; step++) {
        run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
        t.conf.step_usec = step;

        wire_result(&t.w, 1, LDAP_RES_BIND, 0, "");
        wire_entry(&t.w, 2, G1, g);
        wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 0, "");

        for (i = 0; i < 9000; i++) {
            snprintf(name, sizeof(name), "user%d", i);
            wire_entry(&t.w, 3, U("x"), u);
        }

        wire_page_done(&t.w, 3, "");

        CHECK(run(&t) == NGX_EXA_LR_DONE && nkeys(&t) == 9000
              && has_key(&t, "user0") && has_key(&t, "user8999"),
              "checked in slices (%d): %d %s %zu", step, t.rc,
              ngx_exa_lr_error(t.r), nkeys(&t));
        CHECK(step ? t.checking >= 2 : t.checking == 0,
              "checked in slices (%d): %d yields while checking", step,
              t.checking);

        run_free(&t);
    }

    free(g);
}


static void
test_escape(void)
{
    char  out[64];

    ngx_exa_lr_escape(out, sizeof(out), "a\nb\xff\\c\"", 7);
    CHECK(strcmp(out, "a\\x0ab\\xff\\x5cc\"") == 0, "escape: %s", out);

    ngx_exa_lr_escape(out, 6, "abcdefgh", 8);
    CHECK(strcmp(out, "abcde") == 0, "escape cut: %s", out);

    ngx_exa_lr_escape(out, 6, "ab\x01", 3);
    CHECK(strcmp(out, "ab") == 0, "escape cut at an escape: %s", out);

    CHECK(strcmp(ngx_exa_lr_state_name(NGX_EXA_LR_SEARCH_USERS),
                 "search_users") == 0, "state name");
}


/*
 * A change applied to what the last read knew: G1 has alice and G2, G2
 * has carol and dave (whose entry the filter leaves out).  The full read
 * records them; each delta walks the groups again (2: the groups, 3: G1,
 * 4: G2) and reads alone, from 5 on, the members new to the tree first,
 * then the changed ones.
 */

static void
delta_groups(run_t *t, const char **g1, const char **g2)
{
    wire_result(&t->w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&t->w, 2, G1, (const char *[]) { NULL });
    wire_entry(&t->w, 2, G2, (const char *[]) { NULL });
    wire_page_done(&t->w, 2, "");
    wire_entry(&t->w, 3, G1, g1);
    wire_result(&t->w, 3, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t->w, 4, G2, g2);
    wire_result(&t->w, 4, LDAP_RES_SEARCH_RESULT, 0, "");
}


static int
delta_run(run_t *t, ngx_exa_lm_t *m, const ngx_exa_str_t *dns, size_t n)
{
    t->model = m;
    t->apply = dns != NULL;
    t->dns = dns;
    t->ndns = n;

    return run(t);
}


static void
test_delta(void)
{
    run_t           t;
    ngx_exa_lm_t   *m;
    ngx_exa_str_t   dns[2];
    const char     *g1[] = { "member", U("alice"), G2, NULL, NULL };
    const char     *g1e[] = { "member", U("alice"), G2, U("erin"), NULL,
                              NULL };
    const char     *g1n[] = { "member", U("alice"), G2,
                              "cn=new,ou=groups,dc=example,dc=com", NULL,
                              NULL };
    const char     *g2[] = { "member", U("carol"), U("dave"), NULL, NULL };
    const char     *alice[] = { "sAMAccountName", "alice", NULL, NULL };
    const char     *bob[] = { "sAMAccountName", "bob", NULL, NULL };
    const char     *carol[] = { "sAMAccountName", "carol", NULL, NULL };
    const char     *carola[] = { "sAMAccountName", "carola", NULL,
                                 "objectClass", "inetOrgPerson", NULL, NULL };
    const char     *erin[] = { "sAMAccountName", "erin", NULL,
                               "objectClass", "person", NULL, NULL };
    const char     *group[] = { "objectClass", "top", "groupOfNames", NULL,
                                NULL };

    m = ngx_exa_lm_create(0);

    /* the full read: its users' search (5) */

    run_init(&t, NGX_EXA_LDAP_NESTED_WALK);
    delta_groups(&t, g1, g2);
    wire_entry(&t.w, 5, U("alice"), alice);
    wire_entry(&t.w, 5, U("bob"), bob);
    wire_entry(&t.w, 5, U("carol"), carol);
    wire_page_done(&t.w, 5, "");

    CHECK(delta_run(&t, m, NULL, 0) == NGX_EXA_LR_DONE, "delta: full: %d %s",
          t.rc, ngx_exa_lr_error(t.r));
    CHECK(ngx_exa_lr_delta(t.r) == 0 && ngx_exa_lm_members(m) == 3
          && nkeys(&t) == 2 && has_key(&t, "alice") && has_key(&t, "carol"),
          "delta: full: %zu keys, %zu members", nkeys(&t),
          ngx_exa_lm_members(m));
    run_free(&t);

    /* erin added to G1 (5), carol renamed (6): G1's DN, carol's, bob's */

    dns[0].data = (const unsigned char *) "UID=Carol, ou=People,dc=example,dc=com";
    dns[0].len = strlen((const char *) dns[0].data);
    dns[1].data = (const unsigned char *) U("bob");
    dns[1].len = strlen(U("bob"));

    run_init(&t, NGX_EXA_LDAP_NESTED_WALK);
    delta_groups(&t, g1e, g2);
    wire_entry(&t.w, 5, U("erin"), erin);
    wire_result(&t.w, 5, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 6, U("carol"), carola);
    wire_result(&t.w, 6, LDAP_RES_SEARCH_RESULT, 0, "");

    CHECK(delta_run(&t, m, dns, 2) == NGX_EXA_LR_DONE, "delta: add: %d %s",
          t.rc, ngx_exa_lr_error(t.r));
    CHECK(ngx_exa_lr_delta(t.r) == 1 && nkeys(&t) == 3
          && has_key(&t, "alice") && has_key(&t, "carola")
          && has_key(&t, "erin") && !has_key(&t, "carol"),
          "delta: add: %zu keys", nkeys(&t));
    CHECK(ngx_exa_lr_stats(t.r)->entries == 6, "delta: add: %zu entries",
          ngx_exa_lr_stats(t.r)->entries);
    run_free(&t);

    /* erin removed from G1, dave from G2: nothing to read alone */

    run_init(&t, NGX_EXA_LDAP_NESTED_WALK);
    delta_groups(&t, g1, (const char *[]) { "member", U("carol"), NULL,
                                             NULL });

    CHECK(delta_run(&t, m, dns, 0) == NGX_EXA_LR_DONE, "delta: remove: %d %s",
          t.rc, ngx_exa_lr_error(t.r));
    CHECK(nkeys(&t) == 2 && has_key(&t, "alice") && has_key(&t, "carola")
          && !has_key(&t, "erin"), "delta: remove: %zu keys", nkeys(&t));
    CHECK(ngx_exa_lr_stats(t.r)->entries == 4, "delta: remove: %zu entries",
          ngx_exa_lr_stats(t.r)->entries);
    run_free(&t);

    /*
     * erin and dave back: both read again (5, 6), erin left out by the
     * filter now, dave gone
     */

    run_init(&t, NGX_EXA_LDAP_NESTED_WALK);
    delta_groups(&t, g1e, g2);
    wire_result(&t.w, 5, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_result(&t.w, 6, LDAP_RES_SEARCH_RESULT, LDAP_NO_SUCH_OBJECT, "");

    CHECK(delta_run(&t, m, dns, 0) == NGX_EXA_LR_DONE, "delta: back: %d %s",
          t.rc, ngx_exa_lr_error(t.r));
    CHECK(nkeys(&t) == 2 && !has_key(&t, "erin"), "delta: back: %zu keys",
          nkeys(&t));
    run_free(&t);

    /* a new member that is a group no full read knew: the delta fails */

    run_init(&t, NGX_EXA_LDAP_NESTED_WALK);
    delta_groups(&t, g1n, g2);
    wire_entry(&t.w, 5, "cn=new,ou=groups,dc=example,dc=com", group);
    wire_result(&t.w, 5, LDAP_RES_SEARCH_RESULT, 0, "");

    CHECK(delta_run(&t, m, dns, 0) == NGX_EXA_LR_ERROR
          && strstr(ngx_exa_lr_error(t.r), "a group the last full read"),
          "delta: a new group: %d %s", t.rc, ngx_exa_lr_error(t.r));
    run_free(&t);

    /* a base read answered by another entry */

    ngx_exa_lm_destroy(m);
    m = ngx_exa_lm_create(0);

    run_init(&t, NGX_EXA_LDAP_NESTED_WALK);
    delta_groups(&t, g1, g2);
    wire_entry(&t.w, 5, U("alice"), alice);
    wire_entry(&t.w, 5, U("carol"), carol);
    wire_page_done(&t.w, 5, "");
    CHECK(delta_run(&t, m, NULL, 0) == NGX_EXA_LR_DONE, "delta: full again");
    run_free(&t);

    run_init(&t, NGX_EXA_LDAP_NESTED_WALK);
    delta_groups(&t, g1e, g2);
    wire_entry(&t.w, 5, U("alice"), alice);
    wire_result(&t.w, 5, LDAP_RES_SEARCH_RESULT, 0, "");

    CHECK(delta_run(&t, m, dns, 0) == NGX_EXA_LR_ERROR
          && strstr(ngx_exa_lr_error(t.r), "answered by another entry"),
          "delta: another entry: %d %s", t.rc, ngx_exa_lr_error(t.r));
    run_free(&t);

    /* chain keeps no model */

    run_init(&t, NGX_EXA_LDAP_NESTED_CHAIN);
    t.ld = wire_ldap(&t.w);
    t.r = ngx_exa_lr_create(&t.conf, t.ld);
    CHECK(ngx_exa_lr_apply(t.r, m, dns, 1) != 0, "delta: chain");
    ngx_exa_lr_record(t.r, m);
    CHECK(ngx_exa_lr_delta(t.r) == -1, "delta: chain records nothing");
    run_free(&t);

    ngx_exa_lm_destroy(m);
}


int
main(void)
{
    test_chain();
    test_walk();
    test_ranges();
    test_tokens();
    test_forward();
    test_values();
    test_domains();
    test_failures();
    test_slices();
    test_check_slices();
    test_escape();
    test_delta();

    UNIT_DONE("test_ldap_refresh");
}
