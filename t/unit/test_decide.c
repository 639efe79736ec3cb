/*
 * The decision: README.md's table ("How a request is decided") written
 * out as data, row by row, and ngx_exa_decide() checked against it over
 * every combination of facts, in both modes, with the facts it asks for;
 * then that it is total: any facts, known, unknown or out of range, give
 * a decision with a reason, or ask for a fact not known yet.
 */

#include "unit.h"
#include "ngx_exa_decide.h"


#define ANY     0xffffffffu
#define B(v)    (1u << (v))

/* the header's and the identity's values in a world: all but unknown */
#define HEADERS     4
#define IDENTITIES  5


typedef struct {
    int         n;                  /* the row of README.md's table */
    unsigned    identity;           /* masks of the values it matches */
    unsigned    confused;           /* B(0) no, B(1) yes */
    unsigned    confusion_deny;
    unsigned    restricted;
    unsigned    internal;
    unsigned    header;
    unsigned    unidentified_deny;
    unsigned    user;
    unsigned    list;
    int         decision;           /* in "on" mode */
    int         reason;
    const char *asked;              /* i internal, c credential, u user,
                                       l list */
} row_t;


/*
 * a name, or no header and (rows 1, 9 to 11 took the others) an identity
 * that names a user
 */

#define NAMED  B(NGX_EXA_HEADER_USER) | B(NGX_EXA_HEADER_NONE)

static const row_t  table[] = {

    { 1, B(NGX_EXA_IDENTITY_REVOKED), ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY,
      NGX_EXA_DECISION_DENY, NGX_EXA_REASON_REVOKED, "" },

    { 2, ANY, B(1), B(1), ANY, B(NGX_EXA_INTERNAL_YES), ANY, ANY, ANY, ANY,
      NGX_EXA_DECISION_PASS, NGX_EXA_REASON_INTERNAL, "i" },

    { 3, ANY, B(1), B(1), ANY, B(NGX_EXA_INTERNAL_NO), ANY, ANY, ANY, ANY,
      NGX_EXA_DECISION_DENY, NGX_EXA_REASON_PATH_CONFUSION, "i" },

    { 4, ANY, ANY, ANY, B(0), ANY, ANY, ANY, ANY, ANY,
      NGX_EXA_DECISION_PASS, NGX_EXA_REASON_UNRESTRICTED, "" },

    { 5, ANY, ANY, ANY, B(1), B(NGX_EXA_INTERNAL_YES), ANY, ANY, ANY, ANY,
      NGX_EXA_DECISION_PASS, NGX_EXA_REASON_INTERNAL, "i" },

    { 6, ANY, ANY, ANY, B(1), B(NGX_EXA_INTERNAL_NO),
      B(NGX_EXA_HEADER_HANDSHAKE), ANY, ANY, ANY,
      NGX_EXA_DECISION_PASS, NGX_EXA_REASON_HANDSHAKE, "ic" },

    { 7, ANY, ANY, ANY, B(1), B(NGX_EXA_INTERNAL_NO),
      B(NGX_EXA_HEADER_UNIDENTIFIED), B(1), ANY, ANY,
      NGX_EXA_DECISION_DENY, NGX_EXA_REASON_UNIDENTIFIED, "ic" },

    { 8, ANY, ANY, ANY, B(1), B(NGX_EXA_INTERNAL_NO),
      B(NGX_EXA_HEADER_UNIDENTIFIED), B(0), ANY, ANY,
      NGX_EXA_DECISION_PASS, NGX_EXA_REASON_UNIDENTIFIED, "ic" },

    { 9, B(NGX_EXA_IDENTITY_NONE), ANY, ANY, B(1), B(NGX_EXA_INTERNAL_NO),
      B(NGX_EXA_HEADER_NONE), ANY, ANY, ANY,
      NGX_EXA_DECISION_PASS, NGX_EXA_REASON_NO_CREDENTIAL, "ic" },

    { 10, B(NGX_EXA_IDENTITY_UNREADABLE) | B(NGX_EXA_IDENTITY_CLEARED),
      ANY, ANY, B(1), B(NGX_EXA_INTERNAL_NO), B(NGX_EXA_HEADER_NONE), B(1),
      ANY, ANY,
      NGX_EXA_DECISION_DENY, NGX_EXA_REASON_UNIDENTIFIED, "ic" },

    { 11, B(NGX_EXA_IDENTITY_UNREADABLE) | B(NGX_EXA_IDENTITY_CLEARED),
      ANY, ANY, B(1), B(NGX_EXA_INTERNAL_NO), B(NGX_EXA_HEADER_NONE), B(0),
      ANY, ANY,
      NGX_EXA_DECISION_PASS, NGX_EXA_REASON_UNIDENTIFIED, "ic" },

    { 12, ANY, ANY, ANY, B(1), B(NGX_EXA_INTERNAL_NO), NAMED, ANY,
      B(NGX_EXA_USER_FOREIGN), ANY,
      NGX_EXA_DECISION_DENY, NGX_EXA_REASON_FOREIGN_DOMAIN, "icu" },

    { 13, ANY, ANY, ANY, B(1), B(NGX_EXA_INTERNAL_NO), NAMED, B(1),
      B(NGX_EXA_USER_INVALID), ANY,
      NGX_EXA_DECISION_DENY, NGX_EXA_REASON_UNIDENTIFIED, "icu" },

    { 14, ANY, ANY, ANY, B(1), B(NGX_EXA_INTERNAL_NO), NAMED, B(0),
      B(NGX_EXA_USER_INVALID), ANY,
      NGX_EXA_DECISION_PASS, NGX_EXA_REASON_UNIDENTIFIED, "icu" },

    { 15, ANY, ANY, ANY, B(1), B(NGX_EXA_INTERNAL_NO), NAMED, ANY,
      B(NGX_EXA_USER_OK), B(NGX_EXA_LIST_MEMBER),
      NGX_EXA_DECISION_ALLOW, NGX_EXA_REASON_MEMBER, "icul" },

    { 16, ANY, ANY, ANY, B(1), B(NGX_EXA_INTERNAL_NO), NAMED, ANY,
      B(NGX_EXA_USER_OK), B(NGX_EXA_LIST_NOT_MEMBER),
      NGX_EXA_DECISION_DENY, NGX_EXA_REASON_NOT_MEMBER, "icul" },

    { 17, ANY, ANY, ANY, B(1), B(NGX_EXA_INTERNAL_NO), NAMED, ANY,
      B(NGX_EXA_USER_OK), B(NGX_EXA_LIST_UNAVAILABLE),
      NGX_EXA_DECISION_DENY, NGX_EXA_REASON_LIST_UNAVAILABLE, "icul" }
};

#define ROWS  (sizeof(table) / sizeof(table[0]))


/* what the request is: every fact, as the shell would find it out */

typedef struct {
    unsigned    audit, confused, confusion_deny, restricted,
                unidentified_deny;
    int         identity, internal, header, user, list;
} world_t;


static const row_t *
expected(const world_t *w)
{
    size_t        i;
    const row_t  *r;

    for (i = 0; i < ROWS; i++) {
        r = &table[i];

        if ((r->identity & B(w->identity))
            && (r->confused & B(w->confused))
            && (r->confusion_deny & B(w->confusion_deny))
            && (r->restricted & B(w->restricted))
            && (r->internal & B(w->internal))
            && (r->header & B(w->header))
            && (r->unidentified_deny & B(w->unidentified_deny))
            && (r->user & B(w->user))
            && (r->list & B(w->list)))
        {
            return r;
        }
    }

    return NULL;
}


/* asks ngx_exa_decide() until it decides, answering from the world */

static int
run(const world_t *w, ngx_exa_verdict_t *v, char *asked)
{
    int              steps;
    ngx_exa_facts_t  f;

    memset(&f, 0, sizeof(f));

    f.audit = w->audit;
    f.confused = w->confused;
    f.confusion_deny = w->confusion_deny;
    f.restricted = w->restricted;
    f.unidentified_deny = w->unidentified_deny;
    f.identity = w->identity;

    *asked = '\0';

    for (steps = 0; steps < 8; steps++) {

        if (ngx_exa_decide(&f, v) != NGX_EXA_DECISION_NONE) {
            CHECK(v->need == NGX_EXA_NEED_NOTHING, "decided and needs %d",
                  v->need);
            return 0;
        }

        switch (v->need) {

        case NGX_EXA_NEED_INTERNAL:
            CHECK(f.internal == 0, "internal asked again");
            f.internal = w->internal;
            strcat(asked, "i");
            break;

        case NGX_EXA_NEED_CREDENTIAL:
            CHECK(f.header == 0, "credential asked again");
            f.header = w->header;
            strcat(asked, "c");
            break;

        case NGX_EXA_NEED_USER:
            CHECK(f.user == 0, "user asked again");
            f.user = w->user;
            strcat(asked, "u");
            break;

        case NGX_EXA_NEED_LIST:
            CHECK(f.list == 0, "list asked again");
            f.list = w->list;
            strcat(asked, "l");
            break;

        default:
            CHECK(0, "undecided, needs %d", v->need);
            return -1;
        }
    }

    CHECK(0, "no decision after %d facts", steps);

    return -1;
}


/* one request of each row, as an operator would meet it */

static void
examples(void)
{
    char               asked[16];
    world_t            w;
    ngx_exa_verdict_t  v;

    /* alice, on the list, with Basic from outside */
    memset(&w, 0, sizeof(w));
    w.restricted = 1;
    w.confusion_deny = 1;
    w.unidentified_deny = 1;
    w.identity = NGX_EXA_IDENTITY_NONE;
    w.internal = NGX_EXA_INTERNAL_NO;
    w.header = NGX_EXA_HEADER_USER;
    w.user = NGX_EXA_USER_OK;
    w.list = NGX_EXA_LIST_MEMBER;

    run(&w, &v, asked);
    CHECK(v.decision == NGX_EXA_DECISION_ALLOW
          && v.reason == NGX_EXA_REASON_MEMBER
          && strcmp(asked, "icul") == 0, "member: %d %d %s",
          v.decision, v.reason, asked);

    /* audit mode forwards mallory, and says so */
    w.audit = 1;
    w.list = NGX_EXA_LIST_NOT_MEMBER;
    run(&w, &v, asked);
    CHECK(v.decision == NGX_EXA_DECISION_AUDIT
          && v.reason == NGX_EXA_REASON_NOT_MEMBER, "audit: %d %d",
          v.decision, v.reason);

    /* the connection's user left the list: nothing else is looked at */
    w.audit = 0;
    w.identity = NGX_EXA_IDENTITY_REVOKED;
    run(&w, &v, asked);
    CHECK(v.decision == NGX_EXA_DECISION_DENY
          && v.reason == NGX_EXA_REASON_REVOKED && asked[0] == '\0',
          "revoked: %d %d %s", v.decision, v.reason, asked);

    /* later requests of an NTLM connection carry no header */
    w.identity = NGX_EXA_IDENTITY_USER;
    w.header = NGX_EXA_HEADER_NONE;
    w.list = NGX_EXA_LIST_MEMBER;
    run(&w, &v, asked);
    CHECK(v.decision == NGX_EXA_DECISION_ALLOW
          && strcmp(asked, "icul") == 0, "connection: %d %s",
          v.decision, asked);

    /* Kerberos the backend accepted: unidentified, never no_credential */
    w.identity = NGX_EXA_IDENTITY_UNREADABLE;
    run(&w, &v, asked);
    CHECK(v.decision == NGX_EXA_DECISION_DENY
          && v.reason == NGX_EXA_REASON_UNIDENTIFIED
          && strcmp(asked, "ic") == 0, "kerberos: %d %d %s",
          v.decision, v.reason, asked);

    /* an unrestricted protocol reads nothing at all */
    w.restricted = 0;
    run(&w, &v, asked);
    CHECK(v.decision == NGX_EXA_DECISION_PASS
          && v.reason == NGX_EXA_REASON_UNRESTRICTED && asked[0] == '\0',
          "unrestricted: %d %d %s", v.decision, v.reason, asked);

    /* ProxyShell from outside, on an unrestricted protocol too */
    w.confused = 1;
    run(&w, &v, asked);
    CHECK(v.decision == NGX_EXA_DECISION_DENY
          && v.reason == NGX_EXA_REASON_PATH_CONFUSION
          && strcmp(asked, "i") == 0, "confused: %d %d %s",
          v.decision, v.reason, asked);

    /* with exchange_access_path_confusion classify, as what it reaches */
    w.confusion_deny = 0;
    run(&w, &v, asked);
    CHECK(v.reason == NGX_EXA_REASON_UNRESTRICTED, "classify: %d",
          v.reason);
}


/* every combination of facts, in both modes, against the table */

static void
table_rows(void)
{
    int                hits[ROWS + 1];
    char               asked[16];
    size_t             i;
    world_t            w;
    const row_t       *r;
    ngx_exa_verdict_t  v;
    unsigned           mode, conf, cdeny, restr, udeny;
    int                id, in, hd, us, li;

    memset(hits, 0, sizeof(hits));

    for (mode = 0; mode < 2; mode++)
    for (conf = 0; conf < 2; conf++)
    for (cdeny = 0; cdeny < 2; cdeny++)
    for (restr = 0; restr < 2; restr++)
    for (udeny = 0; udeny < 2; udeny++)
    for (id = 0; id < IDENTITIES; id++)
    for (in = NGX_EXA_INTERNAL_NO; in <= NGX_EXA_INTERNAL_YES; in++)
    for (hd = 1; hd <= HEADERS; hd++)
    for (us = NGX_EXA_USER_OK; us <= NGX_EXA_USER_INVALID; us++)
    for (li = NGX_EXA_LIST_MEMBER; li <= NGX_EXA_LIST_UNAVAILABLE; li++) {

        w.audit = mode;
        w.confused = conf;
        w.confusion_deny = cdeny;
        w.restricted = restr;
        w.unidentified_deny = udeny;
        w.identity = id;
        w.internal = in;
        w.header = hd;
        w.user = us;
        w.list = li;

        r = expected(&w);

        if (r == NULL) {
            CHECK(0, "no row for identity %d header %d", id, hd);
            continue;
        }

        hits[r->n]++;

        if (run(&w, &v, asked) != 0) {
            continue;
        }

        CHECK(v.decision == (mode && r->decision == NGX_EXA_DECISION_DENY
                             ? NGX_EXA_DECISION_AUDIT : r->decision)
              && v.reason == r->reason,
              "row %d (audit %u): decision %d reason %d, want %d %d",
              r->n, mode, v.decision, v.reason, r->decision, r->reason);

        CHECK(strcmp(asked, r->asked) == 0, "row %d asked \"%s\", want "
              "\"%s\"", r->n, asked, r->asked);
    }

    for (i = 0; i < ROWS; i++) {
        CHECK(table[i].n == (int) i + 1, "row %d numbered %d", (int) i + 1,
              table[i].n);
        CHECK(hits[i + 1] > 0, "row %d never decides", (int) i + 1);
    }
}


/*
 * Total: any facts at all (each from unknown to past its enum, and
 * negative) give a decision in range with a reason that fits it, or ask
 * for a fact that is not known yet; known facts always give a decision.
 * Audit mode only ever turns a denial into an audit.
 */

static int
fits(int decision, int reason)
{
    switch (decision) {

    case NGX_EXA_DECISION_PASS:
        return reason == NGX_EXA_REASON_INTERNAL
               || reason == NGX_EXA_REASON_UNRESTRICTED
               || reason == NGX_EXA_REASON_NO_CREDENTIAL
               || reason == NGX_EXA_REASON_HANDSHAKE
               || reason == NGX_EXA_REASON_UNIDENTIFIED;

    case NGX_EXA_DECISION_ALLOW:
        return reason == NGX_EXA_REASON_MEMBER;

    case NGX_EXA_DECISION_DENY:
    case NGX_EXA_DECISION_AUDIT:
        return reason == NGX_EXA_REASON_REVOKED
               || reason == NGX_EXA_REASON_PATH_CONFUSION
               || reason == NGX_EXA_REASON_UNIDENTIFIED
               || reason == NGX_EXA_REASON_FOREIGN_DOMAIN
               || reason == NGX_EXA_REASON_NOT_MEMBER
               || reason == NGX_EXA_REASON_LIST_UNAVAILABLE;
    }

    return 0;
}


static void
total(void)
{
    int                d, d2, known, asked;
    unsigned           bits;
    ngx_exa_facts_t    f;
    ngx_exa_verdict_t  v, v2;
    int                id, in, hd, us, li;
    long               n;

    n = 0;

    for (bits = 0; bits < 32; bits++)
    for (id = -1; id <= IDENTITIES + 1; id++)
    for (in = -1; in <= 4; in++)
    for (hd = -1; hd <= HEADERS + 2; hd++)
    for (us = -1; us <= 5; us++)
    for (li = -1; li <= 5; li++) {

        memset(&f, 0, sizeof(f));

        f.confused = bits & 1;
        f.confusion_deny = (bits >> 1) & 1;
        f.restricted = (bits >> 2) & 1;
        f.unidentified_deny = (bits >> 3) & 1;
        f.audit = (bits >> 4) & 1;
        f.identity = id;
        f.internal = in;
        f.header = hd;
        f.user = us;
        f.list = li;

        d = ngx_exa_decide(&f, &v);
        n++;

        CHECK(d == v.decision, "returns %d, says %d", d, v.decision);

        known = in != 0 && hd != 0 && us != 0 && li != 0;

        if (d == NGX_EXA_DECISION_NONE) {
            asked = (v.need == NGX_EXA_NEED_INTERNAL) ? in
                    : (v.need == NGX_EXA_NEED_CREDENTIAL) ? hd
                    : (v.need == NGX_EXA_NEED_USER) ? us
                    : (v.need == NGX_EXA_NEED_LIST) ? li : -1;

            CHECK(asked == 0 && v.reason == NGX_EXA_REASON_NONE,
                  "asks for need %d, known as %d", v.need, asked);
            CHECK(!known, "all known, still undecided (need %d)", v.need);
            continue;
        }

        CHECK(d > NGX_EXA_DECISION_NONE && d < NGX_EXA_DECISION_N,
              "decision %d", d);
        CHECK(fits(d, v.reason), "decision %d with reason %d", d,
              v.reason);
        CHECK(v.need == NGX_EXA_NEED_NOTHING, "decided, needs %d", v.need);
        CHECK(f.audit ? d != NGX_EXA_DECISION_DENY
                      : d != NGX_EXA_DECISION_AUDIT,
              "decision %d in audit %u", d, (unsigned) f.audit);

        /* the other mode: the same, but for deny and audit */

        f.audit = !f.audit;
        d2 = ngx_exa_decide(&f, &v2);

        CHECK(v2.reason == v.reason
              && (d2 == d
                  || (d == NGX_EXA_DECISION_DENY
                      && d2 == NGX_EXA_DECISION_AUDIT)
                  || (d == NGX_EXA_DECISION_AUDIT
                      && d2 == NGX_EXA_DECISION_DENY)),
              "mode changes %d/%d to %d/%d", d, v.reason, d2, v2.reason);
    }

    CHECK(n > 100000, "only %ld combinations", n);
}


int
main(void)
{
    examples();
    table_rows();
    total();

    UNIT_DONE("test_decide");
}
