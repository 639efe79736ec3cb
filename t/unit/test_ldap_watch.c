
/*
 * The LDAP watch's logic without nginx: conversations with a directory
 * written out as the server's answers (the bind is 1, then each search in
 * the order the watch sends them), and the times it reads.
 */

#include <stdint.h>

#include "unit.h"
#include "ldap_wire.h"
#include "ngx_exa_ldap_refresh.h"


#define BASE  "dc=example,dc=com"


static const char  *groups1[] = { "cn=g," BASE };
static const char  *attrs[] = { "uid", NULL };


typedef struct {
    wire_t              w;
    LDAP               *ld;
    ngx_exa_lr_t       *r;
    ngx_exa_lr_conf_t   conf;
} run_t;


static void
run_init(run_t *t)
{
    memset(t, 0, sizeof(run_t));

    t->w.in = malloc(WIRE_MAX);

    t->conf.base = BASE;
    t->conf.groups = groups1;
    t->conf.ngroups = 1;
    t->conf.filter = "";
    t->conf.attrs = attrs;
    t->conf.bind_dn = "";
    t->conf.password = "";
    t->conf.memory_max = 1 << 24;
    t->conf.message_max = 1 << 20;
    t->conf.table_max = 1 << 20;
    t->conf.step_usec = 1000000;
    t->conf.watch = 1;

    wire_result(&t->w, 1, LDAP_RES_BIND, 0, "");
}


static void
run_free(run_t *t)
{
    ngx_exa_lr_destroy(t->r);
    ldap_unbind_ext(t->ld, NULL, NULL);
    free(t->w.in);
}


/* steps until the watch has an answer, or the wire is read */

static int
step(run_t *t)
{
    int  rc, i;

    rc = NGX_EXA_LR_AGAIN;

    for (i = 0; i < 10000; i++) {
        rc = ngx_exa_lr_step(t->r);

        if (rc == NGX_EXA_LR_AGAIN && t->w.pos >= t->w.len) {
            break;
        }

        if (rc != NGX_EXA_LR_AGAIN && rc != NGX_EXA_LR_YIELD) {
            break;
        }
    }

    return rc;
}


static int
start(run_t *t)
{
    t->ld = wire_ldap(&t->w);
    t->r = ngx_exa_lr_create(&t->conf, t->ld);

    if (ngx_exa_lr_bind(t->r) != NGX_EXA_LR_AGAIN) {
        return NGX_EXA_LR_ERROR;
    }

    return step(t);
}


static int
poll_once(run_t *t)
{
    int  rc;

    rc = ngx_exa_lr_poll(t->r);

    return rc == NGX_EXA_LR_AGAIN ? step(t) : rc;
}


/* Active Directory: the USN; nothing, then a change, then nothing */

/* the DNs the watch names for its last change: "dn" if one, "-" if unnamed */

static int
named(run_t *t, const char *dn)
{
    int                   rc;
    size_t                n;
    const ngx_exa_str_t  *dns;

    rc = ngx_exa_lr_changes(t->r, &dns, &n);

    if (dn == NULL) {
        return rc == -1;
    }

    rc = rc == 0 && n == 1 && dns[0].len == strlen(dn)
         && memcmp(dns[0].data, dn, dns[0].len) == 0;

    (void) ngx_exa_lr_changes(t->r, NULL, NULL);

    return rc;
}


static void
test_usn(void)
{
    run_t  t;

    run_init(&t);

    wire_entry(&t.w, 2, "", (const char *[]) {
               "highestCommittedUSN", "4711", NULL, NULL });
    wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 0, "");

    /* 3: nothing changed */
    wire_result(&t.w, 3, LDAP_RES_SEARCH_RESULT, 0, "");

    /* 4: a group changed; 5: the USN now */
    wire_entry(&t.w, 4, "cn=g," BASE, (const char *[]) {
               "uSNChanged", "4720", NULL,
               "whenChanged", "20261128201500.0Z", NULL, NULL });
    wire_result(&t.w, 4, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 5, "", (const char *[]) {
               "highestCommittedUSN", "4725", NULL, NULL });
    wire_result(&t.w, 5, LDAP_RES_SEARCH_RESULT, 0, "");

    /* 6: nothing; 7: more than the size limit */
    wire_result(&t.w, 6, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_result(&t.w, 7, LDAP_RES_SEARCH_RESULT, LDAP_SIZELIMIT_EXCEEDED,
                "");
    wire_entry(&t.w, 8, "", (const char *[]) {
               "highestCommittedUSN", "5000", NULL, NULL });
    wire_result(&t.w, 8, LDAP_RES_SEARCH_RESULT, 0, "");

    CHECK(start(&t) == NGX_EXA_LR_IDLE, "usn: detect: %s",
          ngx_exa_lr_error(t.r));
    CHECK(ngx_exa_lr_watch_kind(t.r) == NGX_EXA_LW_USN, "usn: kind");
    CHECK(strcmp(ngx_exa_lr_watch_name(NGX_EXA_LW_USN), "usn") == 0,
          "usn: name");

    CHECK(poll_once(&t) == NGX_EXA_LR_IDLE, "usn: nothing changed");
    CHECK(poll_once(&t) == NGX_EXA_LR_CHANGED, "usn: changed: %s",
          ngx_exa_lr_error(t.r));
    CHECK(ngx_exa_lr_changed_at(t.r) == 1795896900LL * 1000000,
          "usn: whenChanged %lld", ngx_exa_lr_changed_at(t.r));
    CHECK(named(&t, "cn=g," BASE), "usn: the group's DN");
    CHECK(poll_once(&t) == NGX_EXA_LR_IDLE, "usn: nothing after");
    CHECK(poll_once(&t) == NGX_EXA_LR_CHANGED, "usn: cut: %s",
          ngx_exa_lr_error(t.r));
    CHECK(named(&t, NULL), "usn: a cut poll names not all");

    /* a poll only when idle */
    CHECK(ngx_exa_lr_state(t.r) == NGX_EXA_LR_WATCH_IDLE, "usn: idle");

    run_free(&t);

    /* a USN that is no number fails the watch */

    run_init(&t);
    wire_entry(&t.w, 2, "", (const char *[]) {
               "highestCommittedUSN", "-1", NULL, NULL });
    wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 0, "");

    CHECK(start(&t) == NGX_EXA_LR_ERROR && ngx_exa_lr_retry(t.r)
          && strstr(ngx_exa_lr_error(t.r), "no number"),
          "usn: -1: %s", ngx_exa_lr_error(t.r));

    run_free(&t);

    /* more entries than a watch reads */

    {
        int  i;

        run_init(&t);
        wire_entry(&t.w, 2, "", (const char *[]) {
                   "highestCommittedUSN", "1", NULL, NULL });
        wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 0, "");

        for (i = 0; i < 300; i++) {
            wire_entry(&t.w, 3, "cn=x," BASE, (const char *[]) {
                       "uSNChanged", "2", NULL, NULL });
        }

        wire_result(&t.w, 3, LDAP_RES_SEARCH_RESULT, 0, "");

        CHECK(start(&t) == NGX_EXA_LR_IDLE, "flood: detect");
        CHECK(poll_once(&t) == NGX_EXA_LR_ERROR
              && strstr(ngx_exa_lr_error(t.r), "more than 256 entries"),
              "flood: %s", ngx_exa_lr_error(t.r));

        run_free(&t);
    }
}


/* OpenLDAP with syncprov: contextCSN of the base */

static void
test_csn(void)
{
    run_t  t;

    run_init(&t);

    wire_entry(&t.w, 2, "", (const char *[]) { NULL });
    wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&t.w, 3, BASE, (const char *[]) {
               "contextCSN", "20261128201500.000001Z#000000#000#000000",
               NULL, NULL });
    wire_result(&t.w, 3, LDAP_RES_SEARCH_RESULT, 0, "");

    wire_entry(&t.w, 4, BASE, (const char *[]) {
               "contextCSN", "20261128201500.000001Z#000000#000#000000",
               NULL, NULL });
    wire_result(&t.w, 4, LDAP_RES_SEARCH_RESULT, 0, "");

    wire_entry(&t.w, 5, BASE, (const char *[]) {
               "contextCSN", "20261128201502.250000Z#000000#000#000000",
               "20261128201501.000000Z#000000#001#000000", NULL, NULL });
    wire_result(&t.w, 5, LDAP_RES_SEARCH_RESULT, 0, "");

    wire_entry(&t.w, 6, BASE, (const char *[]) {
               "contextCSN", "garbage", NULL, NULL });
    wire_result(&t.w, 6, LDAP_RES_SEARCH_RESULT, 0, "");

    CHECK(start(&t) == NGX_EXA_LR_IDLE
          && ngx_exa_lr_watch_kind(t.r) == NGX_EXA_LW_CSN,
          "csn: detect: %s", ngx_exa_lr_error(t.r));
    CHECK(poll_once(&t) == NGX_EXA_LR_IDLE, "csn: the same");
    CHECK(poll_once(&t) == NGX_EXA_LR_CHANGED, "csn: changed");
    CHECK(named(&t, NULL), "csn: names nothing");
    CHECK(ngx_exa_lr_changed_at(t.r) == 1795896902LL * 1000000 + 250000,
          "csn: its time %lld", ngx_exa_lr_changed_at(t.r));
    CHECK(poll_once(&t) == NGX_EXA_LR_ERROR, "csn: garbage");

    run_free(&t);
}


/* neither: modifyTimestamp, a baseline, then counts at the newest */

static void
test_modified(void)
{
    run_t  t;

    run_init(&t);

    wire_entry(&t.w, 2, "", (const char *[]) { NULL });
    wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_result(&t.w, 3, LDAP_RES_SEARCH_RESULT, 32, "");

    /* 4: the baseline: two at the newest */
    wire_entry(&t.w, 4, "cn=a," BASE, (const char *[]) {
               "modifyTimestamp", "20261128201500Z", NULL, NULL });
    wire_entry(&t.w, 4, "cn=b," BASE, (const char *[]) {
               "modifyTimestamp", "20261128201500Z", NULL, NULL });
    wire_result(&t.w, 4, LDAP_RES_SEARCH_RESULT, 0, "");

    /* 5: the same; 6: a third in the same second; 7: a newer one */
    wire_entry(&t.w, 5, "cn=a," BASE, (const char *[]) {
               "modifyTimestamp", "20261128201500Z", NULL, NULL });
    wire_entry(&t.w, 5, "cn=b," BASE, (const char *[]) {
               "modifyTimestamp", "20261128201500Z", NULL, NULL });
    wire_result(&t.w, 5, LDAP_RES_SEARCH_RESULT, 0, "");

    wire_entry(&t.w, 6, "cn=a," BASE, (const char *[]) {
               "modifyTimestamp", "20261128201500Z", NULL, NULL });
    wire_entry(&t.w, 6, "cn=b," BASE, (const char *[]) {
               "modifyTimestamp", "20261128201500Z", NULL, NULL });
    wire_entry(&t.w, 6, "cn=c," BASE, (const char *[]) {
               "modifyTimestamp", "20261128201500Z", NULL, NULL });
    wire_result(&t.w, 6, LDAP_RES_SEARCH_RESULT, 0, "");

    wire_entry(&t.w, 7, "cn=d," BASE, (const char *[]) {
               "modifyTimestamp", "20261128201503Z", NULL, NULL });
    wire_result(&t.w, 7, LDAP_RES_SEARCH_RESULT, 0, "");

    /* 8: it was deleted; 9: still nothing */
    wire_result(&t.w, 8, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_result(&t.w, 9, LDAP_RES_SEARCH_RESULT, 0, "");

    CHECK(start(&t) == NGX_EXA_LR_IDLE
          && ngx_exa_lr_watch_kind(t.r) == NGX_EXA_LW_MODIFIED,
          "modified: detect: %s", ngx_exa_lr_error(t.r));
    CHECK(poll_once(&t) == NGX_EXA_LR_IDLE, "modified: the same");
    CHECK(poll_once(&t) == NGX_EXA_LR_CHANGED, "modified: a third");
    CHECK(poll_once(&t) == NGX_EXA_LR_CHANGED
          && ngx_exa_lr_changed_at(t.r) == 1795896903LL * 1000000,
          "modified: newer %lld", ngx_exa_lr_changed_at(t.r));
    CHECK(poll_once(&t) == NGX_EXA_LR_CHANGED, "modified: deleted");
    CHECK(poll_once(&t) == NGX_EXA_LR_IDLE, "modified: still nothing");

    run_free(&t);
}


/* AD's notifications: an entry per change; refused: polls */

static void
test_notify(void)
{
    run_t  t;

    run_init(&t);
    t.conf.watch = NGX_EXA_LW_MODE_NOTIFY;

    wire_entry(&t.w, 2, "cn=g," BASE, (const char *[]) {
               "whenChanged", "20261128201500.0Z", NULL, NULL });
    wire_entry(&t.w, 2, "cn=h," BASE, (const char *[]) { NULL });
    wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT,
                LDAP_UNAVAILABLE_CRITICAL_EXTENSION, "");
    wire_entry(&t.w, 3, "", (const char *[]) {
               "highestCommittedUSN", "9", NULL, NULL });
    wire_result(&t.w, 3, LDAP_RES_SEARCH_RESULT, 0, "");

    t.ld = wire_ldap(&t.w);
    t.r = ngx_exa_lr_create(&t.conf, t.ld);

    CHECK(ngx_exa_lr_bind(t.r) == NGX_EXA_LR_AGAIN, "notify: bind");
    CHECK(ngx_exa_lr_step(t.r) == NGX_EXA_LR_IDLE
          && ngx_exa_lr_persistent(t.r)
          && ngx_exa_lr_watch_kind(t.r) == NGX_EXA_LW_NOTIFY,
          "notify: open: %s", ngx_exa_lr_error(t.r));
    CHECK(step(&t) == NGX_EXA_LR_CHANGED
          && ngx_exa_lr_changed_at(t.r) == 1795896900LL * 1000000,
          "notify: a change at %lld", ngx_exa_lr_changed_at(t.r));
    CHECK(named(&t, "cn=g," BASE), "notify: the DN");
    CHECK(step(&t) == NGX_EXA_LR_CHANGED
          && ngx_exa_lr_changed_at(t.r) == 0, "notify: one without time");
    CHECK(step(&t) == NGX_EXA_LR_IDLE && !ngx_exa_lr_persistent(t.r)
          && ngx_exa_lr_watch_kind(t.r) == NGX_EXA_LW_USN,
          "notify: refused, polls: %s", ngx_exa_lr_error(t.r));

    run_free(&t);
}


/* RFC 4533 from the base's contextCSN; "present" entries are no change */

static void
test_sync(void)
{
    run_t           t;
    BerElement     *ber, *val;
    struct berval  *bv;

    run_init(&t);
    t.conf.watch = NGX_EXA_LW_MODE_SYNC;

    wire_entry(&t.w, 2, BASE, (const char *[]) {
               "contextCSN", "20261128201500.000001Z#000000#000#000000",
               NULL, NULL });
    wire_result(&t.w, 2, LDAP_RES_SEARCH_RESULT, 0, "");

    /* an entry with a Sync State control "present", then "modify" */

    val = ber_alloc_t(LBER_USE_DER);
    ber_printf(val, "{eo}", LDAP_SYNC_PRESENT, "0123456789abcdef",
               (ber_len_t) 16);
    ber_flatten(val, &bv);
    ber_free(val, 1);

    ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{it{s{}}t{{sO}}}", 3,
               (ber_tag_t) LDAP_RES_SEARCH_ENTRY, "cn=p," BASE,
               (ber_tag_t) LDAP_TAG_CONTROLS, LDAP_CONTROL_SYNC_STATE, bv);
    ber_bvfree(bv);
    wire_add(&t.w, ber);
    wire_entry(&t.w, 3, "cn=m," BASE, (const char *[]) {
               "modifyTimestamp", "20261128201501Z", NULL, NULL });
    wire_result(&t.w, 3, LDAP_RES_SEARCH_RESULT, LDAP_UNAVAILABLE, "");

    CHECK(start(&t) == NGX_EXA_LR_IDLE && ngx_exa_lr_persistent(t.r)
          && ngx_exa_lr_watch_kind(t.r) == NGX_EXA_LW_SYNC,
          "sync: open: %s", ngx_exa_lr_error(t.r));
    CHECK(step(&t) == NGX_EXA_LR_CHANGED
          && ngx_exa_lr_changed_at(t.r) == 1795896901LL * 1000000,
          "sync: the modified one, not the present one: %lld",
          ngx_exa_lr_changed_at(t.r));
    CHECK(named(&t, "cn=m," BASE), "sync: the modified one's DN only");
    CHECK(step(&t) == NGX_EXA_LR_ERROR && ngx_exa_lr_retry(t.r),
          "sync: the server goes: %s", ngx_exa_lr_error(t.r));

    run_free(&t);
}


static void
test_gentime(void)
{
    CHECK(ngx_exa_lr_gentime("19700101000000Z", 15) == 0, "epoch");
    CHECK(ngx_exa_lr_gentime("20000301000000Z", 15) == 951868800LL * 1000000,
          "2000-03-01");
    CHECK(ngx_exa_lr_gentime("20240229235959.5Z", 17)
          == 1709251199LL * 1000000 + 500000, "a leap day");
    CHECK(ngx_exa_lr_gentime("20261128201500.123456789Z", 25)
          == 1795896900LL * 1000000 + 123456, "nanoseconds cut");
    CHECK(ngx_exa_lr_gentime("20261128201500Z#000000#000#000000", 33)
          == 1795896900LL * 1000000, "a CSN's time");
    CHECK(ngx_exa_lr_gentime("20261128201500", 14) == -1, "no Z");
    CHECK(ngx_exa_lr_gentime("20261128201500Z", 14) == -1, "cut short");
    CHECK(ngx_exa_lr_gentime("20261328201500Z", 15) == -1, "month 13");
    CHECK(ngx_exa_lr_gentime("20261100201500Z", 15) == -1, "day 0");
    CHECK(ngx_exa_lr_gentime("19691231235959Z", 15) == -1, "before 1970");
    CHECK(ngx_exa_lr_gentime("2026112820150 Z", 15) == -1, "a blank");
    CHECK(ngx_exa_lr_gentime("20261128201500.Z", 16) == -1, "no fraction");
    CHECK(ngx_exa_lr_gentime("20261128201500.1234567890Z", 26) == -1,
          "ten digits of fraction");
    CHECK(ngx_exa_lr_gentime("+2026112820150Z", 15) == -1, "a sign");
}


int
main(void)
{
    (void) wire_page_done;
    (void) wire_reference;

    test_usn();
    test_csn();
    test_modified();
    test_notify();
    test_sync();
    test_gentime();

    UNIT_DONE("test_ldap_watch");
}
