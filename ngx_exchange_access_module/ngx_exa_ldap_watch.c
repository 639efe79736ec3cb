
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lber.h>
#include <ldap.h>

#include "ngx_exa_ldap_refresh_int.h"


/*
 * The watch: after the bind, one small search per interval that tells
 * whether something under the base changed, never the list itself.
 *
 *   Active Directory (the root DSE has highestCommittedUSN): the groups
 *   and people whose uSNChanged is above the highest USN seen; nothing
 *   comes back while nothing changed.  After a change, the root DSE's
 *   highestCommittedUSN is read again: the refresh that follows starts
 *   later, so it has every change up to it.
 *
 *   OpenLDAP with syncprov (the base entry has contextCSN): a base read of
 *   contextCSN, which changes with every write to the database.
 *
 *   Otherwise: the entries whose modifyTimestamp is the newest seen or
 *   later; a change is a newer time, or another number of entries at the
 *   newest.  The first poll, from ten minutes ago by the local clock, is
 *   the baseline.
 *
 * Asked to, the watch keeps one search open instead, answered by an entry
 * at every change: Active Directory's change notification control
 * (1.2.840.113556.1.4.528), or RFC 4533 refreshAndPersist from the
 * base's contextCSN (OpenLDAP's syncprov).  A server that refuses it is
 * polled.
 *
 * Every value is the server's, hence hostile: numbers and times are read
 * strictly, and a poll that returns more entries than it may is cut.
 */


#define NGX_EXA_LW_SIZE          16      /* entries a poll asks for */
#define NGX_EXA_LW_ENTRIES       256     /* and reads at most */
#define NGX_EXA_LW_VALUES        8       /* values of an attribute read */
#define NGX_EXA_LW_BASELINE      600     /* seconds before the first poll */

#define NGX_EXA_LW_OBJECTS                                                   \
    "(|(objectClass=group)(objectClass=person)"                              \
    "(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))"


static int ngx_exa_lw_search(ngx_exa_lr_t *r, const char *base, int scope,
    const char *filter, const char **attrs, int size);
static int ngx_exa_lw_entry(ngx_exa_lr_t *r);
static int ngx_exa_lw_result(ngx_exa_lr_t *r);
static int ngx_exa_lw_polled(ngx_exa_lr_t *r);
static int ngx_exa_lw_idle(ngx_exa_lr_t *r);
static int ngx_exa_lw_number(struct berval *v, unsigned long long *n);
static void ngx_exa_lw_clear(ngx_exa_lr_t *r);
static int ngx_exa_lw_detect(ngx_exa_lr_t *r);
static int ngx_exa_lw_persist(ngx_exa_lr_t *r);
static int ngx_exa_lw_persisted(ngx_exa_lr_t *r, int type);
static long long ngx_exa_lw_time(ngx_exa_lr_t *r, const char *name);
static int ngx_exa_lw_present(ngx_exa_lr_t *r);


static const char  *ngx_exa_lw_names[] = {
    "none",
    "usn",
    "contextCSN",
    "modifyTimestamp",
    "notify",
    "syncrepl"
};


int
ngx_exa_lr_watch_kind(ngx_exa_lr_t *r)
{
    return r->w_kind;
}


const char *
ngx_exa_lr_watch_name(int kind)
{
    if (kind < 0 || kind > NGX_EXA_LW_SYNC) {
        return "?";
    }

    return ngx_exa_lw_names[kind];
}


/* the directory's time of the last change seen, in microseconds, or 0 */

long long
ngx_exa_lr_changed_at(ngx_exa_lr_t *r)
{
    return r->w_at;
}


/* bound: which way of seeing changes the server allows */

int
ngx_exa_lw_start(ngx_exa_lr_t *r)
{
    static const char  *csn[] = { "contextCSN", NULL };

    r->w_kind = NGX_EXA_LW_NONE;

    switch (r->conf->watch) {

    case NGX_EXA_LW_MODE_NOTIFY:
        return ngx_exa_lw_persist(r);

    case NGX_EXA_LW_MODE_SYNC:

        /* the base's contextCSN first: the changes after it */

        r->state = NGX_EXA_LR_WATCH_DETECT;
        r->w_base = 2;

        return ngx_exa_lw_search(r, r->conf->base, LDAP_SCOPE_BASE,
                                 "(objectClass=*)", csn, 0);

    default:
        return ngx_exa_lw_detect(r);
    }
}


/* polls: which way of seeing changes the server allows */

static int
ngx_exa_lw_detect(ngx_exa_lr_t *r)
{
    static const char  *attrs[] = { "highestCommittedUSN", NULL };

    r->state = NGX_EXA_LR_WATCH_DETECT;
    r->w_kind = NGX_EXA_LW_NONE;
    r->w_base = 1;

    return ngx_exa_lw_search(r, "", LDAP_SCOPE_BASE, "(objectClass=*)",
                             attrs, 0);
}


/* one search that stays open: notifications, or refreshAndPersist */

static int
ngx_exa_lw_persist(ngx_exa_lr_t *r)
{
    int                 rc;
    char                cookie[96];
    BerElement         *ber;
    LDAPControl        *ctrl, *ctrls[2];
    struct berval       value;
    static const char  *notify[] = { "whenChanged", NULL };
    static const char  *sync[] = { "modifyTimestamp", NULL };

    ctrl = NULL;
    ber = NULL;
    value.bv_val = NULL;
    value.bv_len = 0;

    if (r->conf->watch == NGX_EXA_LW_MODE_NOTIFY) {
        r->w_kind = NGX_EXA_LW_NOTIFY;

        rc = ldap_control_create(NGX_EXA_LW_NOTIFY_OID, 1, NULL, 0, &ctrl);

    } else {
        r->w_kind = NGX_EXA_LW_SYNC;

        snprintf(cookie, sizeof(cookie), "rid=000,csn=%s", r->w_csn);

        ber = ber_alloc_t(LBER_USE_DER);

        if (ber == NULL
            || ber_printf(ber, "{es}", LDAP_SYNC_REFRESH_AND_PERSIST, cookie)
               == -1
            || ber_flatten2(ber, &value, 0) == -1)
        {
            rc = LDAP_NO_MEMORY;

        } else {
            rc = ldap_control_create(LDAP_CONTROL_SYNC, 1, &value, 1, &ctrl);
        }
    }

    if (ber) {
        ber_free(ber, 1);
    }

    if (rc != LDAP_SUCCESS) {
        return ngx_exa_lr_fail(r, 0, "ldap_control_create() failed (%d: %s)",
                               rc, ldap_err2string(rc));
    }

    ctrls[0] = ctrl;
    ctrls[1] = NULL;

    ngx_exa_lw_clear(r);

    rc = ldap_search_ext(r->ld, r->conf->base, LDAP_SCOPE_SUBTREE,
                         "(objectClass=*)",
                         (char **) (r->w_kind == NGX_EXA_LW_NOTIFY ? notify
                                                                   : sync),
                         0, ctrls, NULL, NULL, 0, &r->msgid);

    ldap_control_free(ctrl);

    if (rc != LDAP_SUCCESS) {
        r->msgid = -1;
        return ngx_exa_lr_fail(r, 1, "search request failed (%d: %s)",
                               rc, ldap_err2string(rc));
    }

    r->state = NGX_EXA_LR_WATCH_PERSIST;

    return NGX_EXA_LR_IDLE;
}


int
ngx_exa_lr_persistent(ngx_exa_lr_t *r)
{
    return r->state == NGX_EXA_LR_WATCH_PERSIST;
}


/* the next poll, after the interval */

int
ngx_exa_lr_poll(ngx_exa_lr_t *r)
{
    int                 rc;
    char                filter[192];
    time_t              t;
    struct tm           tm;
    static const char  *usn[] = { "uSNChanged", "whenChanged", NULL };
    static const char  *csn[] = { "contextCSN", NULL };
    static const char  *mod[] = { "modifyTimestamp", NULL };

    if (r->state == NGX_EXA_LR_FAILED) {
        return NGX_EXA_LR_ERROR;
    }

    if (r->state != NGX_EXA_LR_WATCH_IDLE) {
        return ngx_exa_lr_fail(r, 0, "a poll while the watch is not idle");
    }

    r->state = NGX_EXA_LR_WATCH_POLL;

    (void) ngx_exa_lr_changes(r, NULL, NULL);

    switch (r->w_kind) {

    case NGX_EXA_LW_USN:
        snprintf(filter, sizeof(filter), "(&(uSNChanged>=%llu)"
                 NGX_EXA_LW_OBJECTS ")", r->w_usn + 1);

        rc = ngx_exa_lw_search(r, r->conf->base, LDAP_SCOPE_SUBTREE, filter,
                               usn, NGX_EXA_LW_SIZE);
        break;

    case NGX_EXA_LW_CSN:
        rc = ngx_exa_lw_search(r, r->conf->base, LDAP_SCOPE_BASE,
                               "(objectClass=*)", csn, 0);
        break;

    default: /* NGX_EXA_LW_MODIFIED */
        t = (time_t) (r->w_mod / 1000000);

        if (r->w_base || t <= 0) {
            t = time(NULL) - NGX_EXA_LW_BASELINE;
        }

        if (gmtime_r(&t, &tm) == NULL) {
            return ngx_exa_lr_fail(r, 0, "gmtime_r() failed");
        }

        snprintf(filter, sizeof(filter),
                 "(modifyTimestamp>=%04d%02d%02d%02d%02d%02dZ)",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);

        rc = ngx_exa_lw_search(r, r->conf->base, LDAP_SCOPE_SUBTREE, filter,
                               mod, NGX_EXA_LW_SIZE);
        break;
    }

    return rc == NGX_EXA_LR_NEXT ? NGX_EXA_LR_AGAIN : rc;
}


static int
ngx_exa_lw_search(ngx_exa_lr_t *r, const char *base, int scope,
    const char *filter, const char **attrs, int size)
{
    int  rc;

    ngx_exa_lw_clear(r);

    rc = ldap_search_ext(r->ld, base, scope, filter, (char **) attrs, 0,
                         NULL, NULL, NULL, size, &r->msgid);

    if (rc != LDAP_SUCCESS) {
        r->msgid = -1;
        return ngx_exa_lr_fail(r, 1, "search request failed (%d: %s)",
                               rc, ldap_err2string(rc));
    }

    return NGX_EXA_LR_NEXT;
}


/* what a search of the watch has seen so far: nothing */

static void
ngx_exa_lw_clear(ngx_exa_lr_t *r)
{
    r->w_entries = 0;
    r->w_cut = 0;
    r->w_usn_seen = 0;
    r->w_csn_seen[0] = '\0';
    r->w_mod_seen = 0;
    r->w_mod_seen_n = 0;
    r->w_at_seen = 0;
}


/* one message in a state of the watch */

int
ngx_exa_lw_message(ngx_exa_lr_t *r, int type)
{
    if (ldap_msgid(r->msg) != r->msgid) {
        r->stats.ignored++;
        return NGX_EXA_LR_NEXT;
    }

    if (r->state == NGX_EXA_LR_WATCH_PERSIST) {
        return ngx_exa_lw_persisted(r, type);
    }

    if (type == LDAP_RES_SEARCH_ENTRY) {
        r->progress = 1;
        return ngx_exa_lw_entry(r);
    }

    if (type != LDAP_RES_SEARCH_RESULT) {
        r->stats.ignored++;       /* references: other partitions */
        return NGX_EXA_LR_NEXT;
    }

    r->msgid = -1;
    r->progress = 1;

    return ngx_exa_lw_result(r);
}


/* an entry: the values the search asked for, read strictly */

static int
ngx_exa_lw_entry(ngx_exa_lr_t *r)
{
    int                  i, n;
    long long            t;
    const char          *name;
    struct berval      **vals;
    unsigned long long   u;

    if (++r->w_entries > NGX_EXA_LW_ENTRIES) {
        return ngx_exa_lr_fail(r, 1, "more than %d entries answer a watch's "
                               "search of at most %d", NGX_EXA_LW_ENTRIES,
                               NGX_EXA_LW_SIZE);
    }

    switch (r->state) {

    case NGX_EXA_LR_WATCH_DETECT:
        name = r->w_base == 1 ? "highestCommittedUSN" : "contextCSN";
        break;

    case NGX_EXA_LR_WATCH_MARK:
        name = "highestCommittedUSN";
        break;

    default: /* NGX_EXA_LR_WATCH_POLL */
        name = r->w_kind == NGX_EXA_LW_USN ? "uSNChanged"
               : r->w_kind == NGX_EXA_LW_CSN ? "contextCSN"
               : "modifyTimestamp";
        break;
    }

    vals = ldap_get_values_len(r->ld, r->msg, name);

    if (vals == NULL) {
        return NGX_EXA_LR_NEXT;
    }

    n = ldap_count_values_len(vals);

    for (i = 0; i < n && i < NGX_EXA_LW_VALUES; i++) {

        if (name[0] == 'c') {
            /* contextCSN: the greatest, one per server ID */

            if (vals[i]->bv_len == 0
                || vals[i]->bv_len >= sizeof(r->w_csn_seen)
                || memchr(vals[i]->bv_val, '\0', vals[i]->bv_len)
                || ngx_exa_lr_gentime(vals[i]->bv_val, vals[i]->bv_len) < 0)
            {
                ldap_value_free_len(vals);
                return ngx_exa_lr_fail(r, 1, "a contextCSN that is none");
            }

            if (strncmp(vals[i]->bv_val, r->w_csn_seen, vals[i]->bv_len)
                > 0)
            {
                memcpy(r->w_csn_seen, vals[i]->bv_val, vals[i]->bv_len);
                r->w_csn_seen[vals[i]->bv_len] = '\0';
            }

            continue;
        }

        if (name[0] == 'm') {
            t = ngx_exa_lr_gentime(vals[i]->bv_val, vals[i]->bv_len);

            if (t < 0) {
                ldap_value_free_len(vals);
                return ngx_exa_lr_fail(r, 1, "a modifyTimestamp that is "
                                       "no time");
            }

            if (t > r->w_mod_seen) {
                r->w_mod_seen = t;
                r->w_mod_seen_n = 1;

            } else if (t == r->w_mod_seen) {
                r->w_mod_seen_n++;
            }

            continue;
        }

        if (ngx_exa_lw_number(vals[i], &u) != 0) {
            ldap_value_free_len(vals);
            return ngx_exa_lr_fail(r, 1, "a %s that is no number", name);
        }

        if (u > r->w_usn_seen) {
            r->w_usn_seen = u;
        }
    }

    ldap_value_free_len(vals);

    if (r->state == NGX_EXA_LR_WATCH_POLL) {
        ngx_exa_lw_dn(r);
    }

    if (r->state == NGX_EXA_LR_WATCH_POLL && r->w_kind == NGX_EXA_LW_USN) {
        vals = ldap_get_values_len(r->ld, r->msg, "whenChanged");

        if (vals) {
            if (vals[0]) {
                t = ngx_exa_lr_gentime(vals[0]->bv_val, vals[0]->bv_len);

                if (t > r->w_at_seen) {
                    r->w_at_seen = t;
                }
            }

            ldap_value_free_len(vals);
        }
    }

    return NGX_EXA_LR_NEXT;
}


/* the end of a search of the watch */

static int
ngx_exa_lw_result(ngx_exa_lr_t *r)
{
    int                 rc, code;
    char               *text;
    static const char  *csn[] = { "contextCSN", NULL };

    text = NULL;

    rc = ldap_parse_result(r->ld, r->msg, &code, NULL, &text, NULL, NULL, 0);

    if (rc != LDAP_SUCCESS) {
        code = rc;
    }

    if (text) {
        ldap_memfree(text);
    }

    if (code == LDAP_SIZELIMIT_EXCEEDED && r->state == NGX_EXA_LR_WATCH_POLL)
    {
        r->w_cut = 1;

    } else if (code != LDAP_SUCCESS
               && !(code == LDAP_NO_SUCH_OBJECT
                    && r->state == NGX_EXA_LR_WATCH_DETECT))
    {
        return ngx_exa_lr_fail(r, 1, "the watch's search failed (%d: %s)",
                               code, ldap_err2string(code));
    }

    switch (r->state) {

    case NGX_EXA_LR_WATCH_DETECT:

        if (r->w_base == 1) {
            if (r->w_usn_seen) {
                r->w_kind = NGX_EXA_LW_USN;
                r->w_usn = r->w_usn_seen;
                r->w_base = 0;
                return ngx_exa_lw_idle(r);
            }

            /* no USN: the base entry's contextCSN (syncprov) */

            r->w_base = 2;

            return ngx_exa_lw_search(r, r->conf->base, LDAP_SCOPE_BASE,
                                     "(objectClass=*)", csn, 0);
        }

        if (r->w_csn_seen[0]) {
            r->w_kind = NGX_EXA_LW_CSN;
            memcpy(r->w_csn, r->w_csn_seen, sizeof(r->w_csn));
            r->w_base = 0;

            if (r->conf->watch == NGX_EXA_LW_MODE_SYNC) {
                return ngx_exa_lw_persist(r);
            }

            return ngx_exa_lw_idle(r);
        }

        if (r->conf->watch == NGX_EXA_LW_MODE_SYNC && r->conf->note) {
            r->conf->note(r->conf->data, "the base entry has no contextCSN "
                          "(is syncprov loaded?): the watch polls");
        }

        /* neither: modifyTimestamp, with a first poll for a baseline */

        r->w_kind = NGX_EXA_LW_MODIFIED;
        r->w_base = 1;
        r->state = NGX_EXA_LR_WATCH_IDLE;

        rc = ngx_exa_lr_poll(r);

        return rc == NGX_EXA_LR_AGAIN ? NGX_EXA_LR_NEXT : rc;

    case NGX_EXA_LR_WATCH_MARK:

        if (r->w_usn_seen > r->w_usn) {
            r->w_usn = r->w_usn_seen;
        }

        r->state = NGX_EXA_LR_WATCH_IDLE;

        return NGX_EXA_LR_CHANGED;

    default: /* NGX_EXA_LR_WATCH_POLL */
        return ngx_exa_lw_polled(r);
    }
}


/* a poll's answer: has anything changed? */

static int
ngx_exa_lw_polled(ngx_exa_lr_t *r)
{
    int                 base;
    static const char  *attrs[] = { "highestCommittedUSN", NULL };

    base = r->w_base;
    r->w_base = 0;

    switch (r->w_kind) {

    case NGX_EXA_LW_USN:

        if (r->w_entries == 0 && !r->w_cut) {
            return ngx_exa_lw_idle(r);
        }

        r->w_at = r->w_at_seen;
        r->w_dns_lost |= r->w_cut;

        if (r->w_usn_seen > r->w_usn) {
            r->w_usn = r->w_usn_seen;
        }

        /* the highest USN now: the refresh that follows has all up to it */

        r->state = NGX_EXA_LR_WATCH_MARK;
        r->w_usn_seen = 0;

        return ngx_exa_lw_search(r, "", LDAP_SCOPE_BASE, "(objectClass=*)",
                                 attrs, 0);

    case NGX_EXA_LW_CSN:

        if (strcmp(r->w_csn_seen, r->w_csn) == 0) {
            return ngx_exa_lw_idle(r);
        }

        memcpy(r->w_csn, r->w_csn_seen, sizeof(r->w_csn));
        r->w_at = r->w_csn[0] ? ngx_exa_lr_gentime(r->w_csn,
                                                   strlen(r->w_csn))
                              : 0;
        r->state = NGX_EXA_LR_WATCH_IDLE;

        return NGX_EXA_LR_CHANGED;

    default: /* NGX_EXA_LW_MODIFIED */

        /* cut, or an entry gone: not every changed entry is named */

        r->w_dns_lost |= r->w_cut || r->w_entries == 0;

        if (r->w_cut) {
            /* more at once than asked for: go on after the newest seen */
            r->w_mod = r->w_mod_seen + 1000000;
            r->w_mod_n = 0;

        } else if (r->w_entries == 0) {

            /* nothing at the newest time seen any more: it was deleted */

            if (r->w_mod_n == 0) {
                return ngx_exa_lw_idle(r);
            }

            r->w_mod_n = 0;

        } else if (r->w_mod_seen == r->w_mod
                   && r->w_mod_seen_n == r->w_mod_n)
        {
            return ngx_exa_lw_idle(r);

        } else {
            r->w_mod = r->w_mod_seen;
            r->w_mod_n = r->w_mod_seen_n;
        }

        if (base) {
            return ngx_exa_lw_idle(r);
        }

        r->w_at = r->w_mod_seen;
        r->state = NGX_EXA_LR_WATCH_IDLE;

        return NGX_EXA_LR_CHANGED;
    }
}


static int
ngx_exa_lw_idle(ngx_exa_lr_t *r)
{
    r->state = NGX_EXA_LR_WATCH_IDLE;

    return NGX_EXA_LR_IDLE;
}


/* a USN: digits only, no sign, no overflow */

static int
ngx_exa_lw_number(struct berval *v, unsigned long long *n)
{
    size_t  i;

    if (v->bv_len == 0 || v->bv_len > 19) {
        return -1;
    }

    *n = 0;

    for (i = 0; i < v->bv_len; i++) {
        if (v->bv_val[i] < '0' || v->bv_val[i] > '9') {
            return -1;
        }

        *n = *n * 10 + (unsigned long long) (v->bv_val[i] - '0');
    }

    return 0;
}


/*
 * A generalized time in UTC, "YYYYMMDDHHMMSS[.f...]Z", as modifyTimestamp,
 * whenChanged and the start of a contextCSN hold it: microseconds since
 * the epoch, or -1.  Whatever follows the "Z" (a CSN's counters) is not
 * read.
 */

long long
ngx_exa_lr_gentime(const char *s, size_t len)
{
    int        v[6], i, k, frac;
    long long  y, m, days, usec;

    static const int  digits[6] = { 4, 2, 2, 2, 2, 2 };
    static const int  max[6] = { 9999, 12, 31, 23, 59, 60 };

    k = 0;

    for (i = 0; i < 6; i++) {
        int  d;

        v[i] = 0;

        for (d = 0; d < digits[i]; d++) {
            if ((size_t) k >= len || s[k] < '0' || s[k] > '9') {
                return -1;
            }

            v[i] = v[i] * 10 + (s[k++] - '0');
        }

        if (v[i] > max[i] || (i < 3 && i > 0 && v[i] == 0)) {
            return -1;
        }
    }

    if (v[0] < 1970) {
        return -1;
    }

    usec = 0;

    if ((size_t) k < len && (s[k] == '.' || s[k] == ',')) {
        k++;

        for (frac = 0; (size_t) k < len && s[k] >= '0' && s[k] <= '9'; k++) {
            if (frac < 6) {
                usec = usec * 10 + (s[k] - '0');
            }

            if (++frac > 9) {
                return -1;
            }
        }

        if (frac == 0) {
            return -1;
        }

        for ( /* void */ ; frac < 6; frac++) {
            usec *= 10;
        }
    }

    if ((size_t) k >= len || s[k] != 'Z') {
        return -1;
    }

    /* days since 1970-01-01 of a proleptic Gregorian date */

    y = v[0];
    m = v[1];

    if (m <= 2) {
        y--;
        m += 12;
    }

    days = 365 * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5
           + v[2] - 719469;

    return ((days * 24 + v[3]) * 60 + v[4]) * 60 * 1000000LL
           + v[5] * 1000000LL + usec;
}


/*
 * What comes on the search that stays open: an entry is a change; the
 * search's end is a refusal (the server does not offer it, or not to this
 * account: the watch polls instead) or the server going away.
 */

static int
ngx_exa_lw_persisted(ngx_exa_lr_t *r, int type)
{
    int    rc, code;
    char  *text, note[200];

    if (type == LDAP_RES_SEARCH_ENTRY) {
        r->progress = 1;

        if (r->w_kind == NGX_EXA_LW_SYNC) {
            if (ngx_exa_lw_present(r)) {
                return NGX_EXA_LR_NEXT;
            }

            ngx_exa_lw_dn(r);

            r->w_at = ngx_exa_lw_time(r, "modifyTimestamp");

        } else {
            ngx_exa_lw_dn(r);
            r->w_at = ngx_exa_lw_time(r, "whenChanged");
        }

        return NGX_EXA_LR_CHANGED;
    }

    if (type != LDAP_RES_SEARCH_RESULT) {
        r->stats.ignored++;       /* syncInfo messages, references */
        return NGX_EXA_LR_NEXT;
    }

    r->msgid = -1;
    r->progress = 1;
    text = NULL;

    rc = ldap_parse_result(r->ld, r->msg, &code, NULL, &text, NULL, NULL, 0);

    if (rc != LDAP_SUCCESS) {
        code = rc;
    }

    if (text) {
        ldap_memfree(text);
    }

    if (code == LDAP_BUSY || code == LDAP_UNAVAILABLE || code == LDAP_OTHER
        || code == LDAP_SUCCESS)
    {
        return ngx_exa_lr_fail(r, 1, "the %s search ended (%d: %s)",
                               ngx_exa_lr_watch_name(r->w_kind), code,
                               ldap_err2string(code));
    }

    if (r->conf->note) {
        snprintf(note, sizeof(note), "the server refused the %s search "
                 "(%d: %s): the watch polls", ngx_exa_lr_watch_name(r->w_kind),
                 code, ldap_err2string(code));
        r->conf->note(r->conf->data, note);
    }

    return ngx_exa_lw_detect(r);
}


/* RFC 4533: an entry that is only present, not changed */

static int
ngx_exa_lw_present(ngx_exa_lr_t *r)
{
    int           present;
    ber_int_t     state;
    BerElement   *ber;
    LDAPControl **ctrls, *ctrl;

    ctrls = NULL;
    present = 0;

    if (ldap_get_entry_controls(r->ld, r->msg, &ctrls) != LDAP_SUCCESS) {
        return 0;
    }

    ctrl = ldap_control_find(LDAP_CONTROL_SYNC_STATE, ctrls, NULL);

    if (ctrl && ctrl->ldctl_value.bv_val && ctrl->ldctl_value.bv_len) {
        ber = ber_init(&ctrl->ldctl_value);

        if (ber) {
            if (ber_scanf(ber, "{e", &state) != LBER_ERROR
                && state == LDAP_SYNC_PRESENT)
            {
                present = 1;
            }

            ber_free(ber, 1);
        }
    }

    ldap_controls_free(ctrls);

    return present;
}


/* the time an attribute of the entry at hand holds, or 0 */

static long long
ngx_exa_lw_time(ngx_exa_lr_t *r, const char *name)
{
    long long        t;
    struct berval  **vals;

    vals = ldap_get_values_len(r->ld, r->msg, name);

    if (vals == NULL) {
        return 0;
    }

    t = vals[0] ? ngx_exa_lr_gentime(vals[0]->bv_val, vals[0]->bv_len) : 0;

    ldap_value_free_len(vals);

    return t > 0 ? t : 0;
}


/*
 * The DN of a changed entry, kept for the caller (ngx_exa_lr_changes()):
 * as many as NGX_EXA_LR_CHANGES_MAX, then "some are not named".
 */

void
ngx_exa_lw_dn(ngx_exa_lr_t *r)
{
    char           *dn;
    size_t          len;
    unsigned char  *p;

    if (r->w_dns_lost) {
        return;
    }

    dn = ldap_get_dn(r->ld, r->msg);

    if (dn == NULL) {
        r->w_dns_lost = 1;
        return;
    }

    len = strlen(dn);
    p = NULL;

    if (len < NGX_EXA_LR_DN_MAX && r->w_ndns < NGX_EXA_LR_CHANGES_MAX
        && ngx_exa_mem_grow(&r->mem, (void **) &r->w_dns, &r->w_dns_size,
                            r->w_ndns + 1, sizeof(ngx_exa_str_t))
           == 0)
    {
        p = malloc(len + 1);
    }

    if (p == NULL) {
        ldap_memfree(dn);
        r->w_dns_lost = 1;
        return;
    }

    memcpy(p, dn, len + 1);
    ldap_memfree(dn);

    r->w_dns[r->w_ndns].data = p;
    r->w_dns[r->w_ndns].len = len;
    r->w_ndns++;
}


/*
 * The DNs of the entries the last changes were seen in: 0, or -1 when
 * the watch cannot name them all (contextCSN, a cut poll, an entry gone).
 * Without dns, forgets them.
 */

int
ngx_exa_lr_changes(ngx_exa_lr_t *r, const ngx_exa_str_t **dns, size_t *n)
{
    size_t  i;

    if (dns) {
        *dns = r->w_dns;
        *n = r->w_ndns;

        return (r->w_dns_lost || r->w_kind == NGX_EXA_LW_CSN
                || r->w_kind == NGX_EXA_LW_NONE) ? -1 : 0;
    }

    for (i = 0; i < r->w_ndns; i++) {
        free((void *) r->w_dns[i].data);
    }

    r->w_ndns = 0;
    r->w_dns_lost = 0;

    return 0;
}
