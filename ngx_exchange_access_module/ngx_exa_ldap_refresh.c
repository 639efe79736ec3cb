
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <lber.h>
#include <ldap.h>

#include "ngx_exa_ldap_refresh_int.h"
#include "ngx_exa_ldap.h"
#include "ngx_exa_assert.h"


/*
 * Requests, results and states of a refresh; the entries that answer its
 * searches are read by ngx_exa_ldap_entry.c, which this file calls and
 * which calls nothing here.  Answers are read one message
 * at a time, and an entry may be left half read when the call's time is
 * up, to go on at the next call (r->msg, r->ber, r->last keep where).
 */


static int ngx_exa_lr_buffered(ngx_exa_lr_t *r);
static int ngx_exa_lr_message(ngx_exa_lr_t *r);
static int ngx_exa_lr_search_done(ngx_exa_lr_t *r);
static int ngx_exa_lr_result(ngx_exa_lr_t *r, int *code, char *text,
    size_t size, int paged);
static int ngx_exa_lr_bound(ngx_exa_lr_t *r);
static int ngx_exa_lr_groups(ngx_exa_lr_t *r);
static int ngx_exa_lr_list_groups(ngx_exa_lr_t *r);
static int ngx_exa_lr_read_groups(ngx_exa_lr_t *r);
static int ngx_exa_lr_group_result(ngx_exa_lr_t *r, size_t slot);
static int ngx_exa_lr_search_users(ngx_exa_lr_t *r);
static int ngx_exa_lr_paged(ngx_exa_lr_t *r, const char *filter,
    const char * const *attrs);
static int ngx_exa_lr_finish(ngx_exa_lr_t *r);
static int ngx_exa_lr_check_names(ngx_exa_lr_t *r);
static void ngx_exa_lr_release(ngx_exa_lr_t *r);


static const char  *ngx_exa_lr_states[] = {
    "connect",
    "tls",
    "starttls",
    "bind",
    "read_domains",
    "list_groups",
    "read_groups",
    "search_users",
    "done",
    "failed",
    "watch_detect",
    "watch_idle",
    "watch_poll",
    "watch_mark",
    "watch_persist",
    "fetch_users",
    "build_list",
    "check_names"
};

NGX_EXA_ASSERT(lr_states, NGX_EXA_NELTS(ngx_exa_lr_states)
                          == NGX_EXA_LR_NSTATES);


ngx_exa_lr_t *
ngx_exa_lr_create(const ngx_exa_lr_conf_t *conf, LDAP *ld)
{
    size_t          i, len;
    ngx_exa_lr_t   *r;
    unsigned char   buf[NGX_EXA_LR_DN_MAX];

    r = calloc(1, sizeof(ngx_exa_lr_t));
    if (r == NULL) {
        return NULL;
    }

    r->conf = conf;
    r->ld = ld;
    r->state = NGX_EXA_LR_BIND;
    r->msgid = -1;

    r->mem.max = conf->memory_max;
    r->arena.mem = &r->mem;
    r->seen.arena = &r->arena;
    r->all_groups.arena = &r->arena;
    r->members.arena = &r->arena;

    for (i = 0; i < NGX_EXA_LR_WINDOW; i++) {
        r->reads[i].msgid = -1;
    }

    if (ngx_exa_lr_frame_add(r) != 0) {
        ngx_exa_lr_fail(r, 0, "setting up libldap failed");
        return r;
    }

    for (i = 0; i < conf->ngroups; i++) {
        len = strlen(conf->groups[i]);

        if (len >= sizeof(buf)) {
            ngx_exa_lr_fail(r, 0, "group DN longer than %d bytes",
                            NGX_EXA_LR_DN_MAX);
            return r;
        }

        if (ngx_exa_lr_queue(r, (const unsigned char *) conf->groups[i], len,
                             0, 1, 0)
            != 0)
        {
            return r;
        }

        len = ngx_exa_ldap_dn_norm((const unsigned char *) conf->groups[i],
                                   len, buf);

        if (ngx_exa_set_add(&r->seen, buf, len) < 0) {
            ngx_exa_lr_nomem(r);
            return r;
        }
    }

    return r;
}


void
ngx_exa_lr_destroy(ngx_exa_lr_t *r)
{
    if (r == NULL) {
        return;
    }

    ngx_exa_lr_detach(r);

    while (!ngx_exa_lr_free(r, (size_t) -1)) { /* void */ }
}


/* what holds on to the handle goes: the handle may be unbound after it */

void
ngx_exa_lr_detach(ngx_exa_lr_t *r)
{
    size_t  i;

    ngx_exa_lr_release(r);
    ngx_exa_lr_frame_del(r);

    /*
     * libldap keeps a request whose answer it could not decode; abandoned,
     * it is freed with the handle
     */

    if (r->msgid != -1) {
        (void) ldap_abandon_ext(r->ld, r->msgid, NULL, NULL);
        r->msgid = -1;
    }

    for (i = 0; i < NGX_EXA_LR_WINDOW; i++) {
        if (r->reads[i].msgid != -1) {
            (void) ldap_abandon_ext(r->ld, r->reads[i].msgid, NULL, NULL);
            r->reads[i].msgid = -1;
        }
    }

    if (r->cookie) {
        ber_bvfree(r->cookie);
        r->cookie = NULL;
    }

    r->ld = NULL;
}


/*
 * The memory of a detached refresh goes back a part at a time: giving
 * back the pages of a large one (sets, arrays and names of some 17 MB for
 * 100,000 members) takes milliseconds, too long for one step of the
 * event loop.  Parts go until "bytes" went (a larger part goes alone);
 * 1 when all went, r too, 0 while some is left.
 */

int
ngx_exa_lr_free(ngx_exa_lr_t *r, size_t bytes)
{
    size_t          i, start;
    ngx_exa_set_t  *sets[3];

    start = r->mem.used;

#define ngx_exa_lr_freed()  (start - r->mem.used >= bytes)

    sets[0] = &r->members;
    sets[1] = &r->seen;
    sets[2] = &r->all_groups;

    for (i = 0; i < 3; i++) {
        if (sets[i]->slots || sets[i]->old) {
            ngx_exa_set_free(sets[i]);

            if (ngx_exa_lr_freed()) {
                return 0;
            }
        }
    }

    /* the arrays ngx_exa_mem_grow() made */

    if (r->keys) {
        ngx_exa_mem_free(&r->mem, r->keys, r->keys_size,
                         sizeof(ngx_exa_str_t));
        r->keys = NULL;

        if (ngx_exa_lr_freed()) {
            return 0;
        }
    }

    ngx_exa_mem_free(&r->mem, r->groups, r->groups_size,
                     sizeof(ngx_exa_lr_group_t));
    ngx_exa_mem_free(&r->mem, r->domains, r->domains_size,
                     sizeof(ngx_exa_lr_domain_t));
    ngx_exa_mem_free(&r->mem, r->fetch, r->fetch_size,
                     sizeof(ngx_exa_lr_fetch_t));
    r->groups = NULL;
    r->domains = NULL;
    r->fetch = NULL;

    free(r->changed);
    r->changed = NULL;

    for (i = 0; i < r->w_ndns; i++) {
        free((void *) r->w_dns[i].data);
    }

    r->w_ndns = 0;

    ngx_exa_mem_free(&r->mem, r->w_dns, r->w_dns_size, sizeof(ngx_exa_str_t));
    r->w_dns = NULL;

    /* the names, a block at a time */

    while (r->arena.blocks) {
        ngx_exa_arena_free_block(&r->arena);

        if (r->arena.blocks && ngx_exa_lr_freed()) {
            return 0;
        }
    }

#undef ngx_exa_lr_freed

    free(r);

    return 1;
}


/* the message at hand is done with */

static void
ngx_exa_lr_release(ngx_exa_lr_t *r)
{
    if (r->ber) {
        ber_free(r->ber, 0);
        r->ber = NULL;
    }

    if (r->msg) {
        ldap_msgfree(r->msg);
        r->msg = NULL;
    }

    r->last = NULL;
    r->attr = NGX_EXA_LR_ATTR_NONE;
}


int
ngx_exa_lr_state(ngx_exa_lr_t *r)
{
    return r->state;
}


const char *
ngx_exa_lr_state_name(int state)
{
    if (state < 0 || state >= NGX_EXA_LR_NSTATES) {
        return "?";
    }

    return ngx_exa_lr_states[state];
}


int
ngx_exa_lr_progress(ngx_exa_lr_t *r)
{
    int  progress;

    progress = r->progress;
    r->progress = 0;

    return progress;
}


const char *
ngx_exa_lr_error(ngx_exa_lr_t *r)
{
    return r->error;
}


int
ngx_exa_lr_retry(ngx_exa_lr_t *r)
{
    return r->retry;
}


const ngx_exa_str_t *
ngx_exa_lr_keys(ngx_exa_lr_t *r, size_t *n)
{
    *n = r->nkeys;
    return r->keys;
}


const ngx_exa_lr_stats_t *
ngx_exa_lr_stats(ngx_exa_lr_t *r)
{
    r->stats.memory = r->mem.peak;

    return &r->stats;
}


/* requests: StartTLS and the bind; the caller's state comes before */

int
ngx_exa_lr_starttls(ngx_exa_lr_t *r)
{
    int  rc;

    if (r->state == NGX_EXA_LR_FAILED) {
        return NGX_EXA_LR_ERROR;
    }

    r->state = NGX_EXA_LR_STARTTLS;

    rc = ldap_extended_operation(r->ld, LDAP_EXOP_START_TLS, NULL, NULL,
                                 NULL, &r->msgid);
    if (rc != LDAP_SUCCESS) {
        return ngx_exa_lr_fail(r, 1, "StartTLS request failed (%d: %s)",
                               rc, ldap_err2string(rc));
    }

    return NGX_EXA_LR_AGAIN;
}


int
ngx_exa_lr_bind(ngx_exa_lr_t *r)
{
    int            rc;
    struct berval  cred;

    if (r->state == NGX_EXA_LR_FAILED) {
        return NGX_EXA_LR_ERROR;
    }

    r->state = NGX_EXA_LR_BIND;

    cred.bv_val = (char *) r->conf->password;
    cred.bv_len = r->conf->password_len;

    rc = ldap_sasl_bind(r->ld, r->conf->bind_dn, LDAP_SASL_SIMPLE, &cred,
                        NULL, NULL, &r->msgid);
    if (rc != LDAP_SUCCESS) {
        return ngx_exa_lr_fail(r, 1, "bind request failed (%d: %s)",
                               rc, ldap_err2string(rc));
    }

    return NGX_EXA_LR_AGAIN;
}


/* has the connection more to read, in its buffers or in libldap's? */

static int
ngx_exa_lr_buffered(ngx_exa_lr_t *r)
{
    Sockbuf  *sb;

    if (ldap_get_option(r->ld, LDAP_OPT_SOCKBUF, (void *) &sb)
        != LDAP_OPT_SUCCESS)
    {
        return 0;
    }

    return ber_sockbuf_ctrl(sb, LBER_SB_OPT_DATA_READY, NULL) > 0;
}


/*
 * Reads and interprets what libldap has, until it has nothing more, the
 * call's time is up, or the refresh ends.
 */

int
ngx_exa_lr_step(ngx_exa_lr_t *r)
{
    int             rc, idle;
    struct timeval  zero;

    if (r->state == NGX_EXA_LR_FAILED) {
        return NGX_EXA_LR_ERROR;
    }

    clock_gettime(CLOCK_MONOTONIC, &r->started);
    r->work = 0;
    idle = 0;

    for ( ;; ) {

        if (r->state == NGX_EXA_LR_BUILD_LIST) {
            rc = ngx_exa_lr_build(r);

            if (rc == NGX_EXA_LR_NEXT) {
                rc = ngx_exa_lr_finish(r);
            }

            if (rc != NGX_EXA_LR_NEXT) {
                return rc == NGX_EXA_LR_PARTIAL ? NGX_EXA_LR_YIELD : rc;
            }
        }

        if (r->state == NGX_EXA_LR_CHECK_NAMES) {
            rc = ngx_exa_lr_check_names(r);
            return rc == NGX_EXA_LR_PARTIAL ? NGX_EXA_LR_YIELD : rc;
        }

        if (r->msg == NULL) {
            zero.tv_sec = 0;
            zero.tv_usec = 0;

            rc = ldap_result(r->ld, LDAP_RES_ANY, LDAP_MSG_ONE, &zero,
                             &r->msg);

            if (rc == 0) {
                r->msg = NULL;

                /*
                 * libldap returns 0 after it discarded a message (an ID
                 * nobody asked for, a negative one, 0 for anything but an
                 * extended response), though the next may wait behind it:
                 * nothing would tell an edge-triggered loop again
                 */

                if (ngx_exa_lr_buffered(r) && ++idle < NGX_EXA_LR_CHECK) {
                    continue;
                }

                if (idle < NGX_EXA_LR_CHECK) {
                    return NGX_EXA_LR_AGAIN;
                }

                /*
                 * bytes wait, and libldap reads none of them, call after
                 * call: calling again would only spin
                 */

                if (r->received != r->stalled) {
                    r->stalled = r->received;
                    r->stalls = 0;

                } else if (++r->stalls > 2) {
                    return ngx_exa_lr_fail(r, 1, "libldap reads nothing of "
                                           "what the server sent");
                }

                return NGX_EXA_LR_YIELD;
            }

            idle = 0;
            r->stalls = 0;

            if (rc == -1) {
                r->msg = NULL;

                if (r->frame_error[0]) {
                    return ngx_exa_lr_fail(r, 1, "%s", r->frame_error);
                }

                ldap_get_option(r->ld, LDAP_OPT_RESULT_CODE, &rc);
                return ngx_exa_lr_fail(r, 1, "connection lost (%d: %s)",
                                       rc, ldap_err2string(rc));
            }
        }

        rc = ngx_exa_lr_message(r);

        if (rc == NGX_EXA_LR_PARTIAL) {
            return NGX_EXA_LR_YIELD;
        }

        ngx_exa_lr_release(r);

        if (rc != NGX_EXA_LR_NEXT) {
            return rc;
        }

        if (ngx_exa_lr_timeup(r)) {
            return NGX_EXA_LR_YIELD;
        }
    }
}


/* one message, in the state the refresh is in */

static int
ngx_exa_lr_message(ngx_exa_lr_t *r)
{
    int   type, code, rc;
    char  text[160];

    type = ldap_msgtype(r->msg);

    switch (r->state) {

    case NGX_EXA_LR_STARTTLS:

        if (type != LDAP_RES_EXTENDED || ldap_msgid(r->msg) != r->msgid) {
            return NGX_EXA_LR_NEXT;
        }

        r->msgid = -1;
        r->progress = 1;

        if (ngx_exa_lr_result(r, &code, text, sizeof(text), 0) != 0) {
            return ngx_exa_lr_fail(r, 1, "StartTLS refused (%d: %s%s%s)",
                                   code, ldap_err2string(code),
                                   text[0] ? ", " : "", text);
        }

        return NGX_EXA_LR_TLS;

    case NGX_EXA_LR_BIND:

        if (type != LDAP_RES_BIND || ldap_msgid(r->msg) != r->msgid) {
            return NGX_EXA_LR_NEXT;
        }

        r->msgid = -1;
        r->progress = 1;

        if (ngx_exa_lr_result(r, &code, text, sizeof(text), 0) != 0) {
            char  dn[160];

            ngx_exa_lr_escape(dn, sizeof(dn), r->conf->bind_dn,
                              strlen(r->conf->bind_dn));

            return ngx_exa_lr_fail(r, 1, "bind as \"%s\" failed (%d: %s%s%s)",
                                   dn, code, ldap_err2string(code),
                                   text[0] ? ", " : "", text);
        }

        return ngx_exa_lr_bound(r);

    case NGX_EXA_LR_READ_DOMAINS:

        if (type == LDAP_RES_SEARCH_ENTRY) {
            return ngx_exa_lr_entry(r);
        }

        if (type != LDAP_RES_SEARCH_RESULT || ldap_msgid(r->msg) != r->msgid)
        {
            r->stats.ignored++;
            return NGX_EXA_LR_NEXT;
        }

        r->msgid = -1;
        r->progress = 1;

        (void) ngx_exa_lr_result(r, &code, text, sizeof(text), 0);

        rc = ngx_exa_lr_domains_result(r, code, text);

        return rc == NGX_EXA_LR_PARTIAL ? ngx_exa_lr_groups(r) : rc;

    case NGX_EXA_LR_LIST_GROUPS:
    case NGX_EXA_LR_READ_GROUPS:
    case NGX_EXA_LR_SEARCH_USERS:
    case NGX_EXA_LR_FETCH_USERS:

        if (type == LDAP_RES_SEARCH_ENTRY) {
            return ngx_exa_lr_entry(r);
        }

        if (type != LDAP_RES_SEARCH_RESULT) {
            r->stats.ignored++;
            return NGX_EXA_LR_NEXT;
        }

        return ngx_exa_lr_search_done(r);

    case NGX_EXA_LR_WATCH_DETECT:
    case NGX_EXA_LR_WATCH_POLL:
    case NGX_EXA_LR_WATCH_MARK:
    case NGX_EXA_LR_WATCH_PERSIST:
        return ngx_exa_lw_message(r, type);

    default:
        r->stats.ignored++;
        return NGX_EXA_LR_NEXT;
    }
}



/* the result of a search: a group's read, a page, the last page */

static int
ngx_exa_lr_search_done(ngx_exa_lr_t *r)
{
    int   rc, code;
    char  text[160];

    if (r->state == NGX_EXA_LR_READ_GROUPS
        || r->state == NGX_EXA_LR_FETCH_USERS)
    {
        for (rc = 0; rc < NGX_EXA_LR_WINDOW; rc++) {
            if (r->reads[rc].msgid == ldap_msgid(r->msg)) {
                r->progress = 1;
                return r->state == NGX_EXA_LR_READ_GROUPS
                       ? ngx_exa_lr_group_result(r, rc)
                       : ngx_exa_lr_fetch_result(r, rc);
            }
        }

        r->stats.ignored++;
        return NGX_EXA_LR_NEXT;
    }

    if (ldap_msgid(r->msg) != r->msgid) {
        r->stats.ignored++;
        return NGX_EXA_LR_NEXT;
    }

    r->msgid = -1;
    r->progress = 1;

    rc = ngx_exa_lr_result(r, &code, text, sizeof(text), 1);

    if (rc == NGX_EXA_LR_ERROR) {
        return rc;
    }

    if (rc != 0) {
        return ngx_exa_lr_fail(r, ngx_exa_lr_server_fault(code),
                               "search failed (%d: %s%s%s)",
                               code, ldap_err2string(code),
                               text[0] ? ", " : "", text);
    }

    if (r->cookie) {
        return NGX_EXA_LR_NEXT;       /* the next page was asked for */
    }

    if (r->state == NGX_EXA_LR_LIST_GROUPS) {
        return ngx_exa_lr_read_groups(r);
    }

    return ngx_exa_lr_finish(r);
}

/*
 * The result of the operation at hand: 0 with *code LDAP_SUCCESS, 1 with
 * the server's code and text (escaped), or NGX_EXA_LR_ERROR.  With paged,
 * a page cookie asks for the next page.
 */

static int
ngx_exa_lr_result(ngx_exa_lr_t *r, int *code, char *text, size_t size,
    int paged)
{
    int            rc;
    char          *msg;
    ber_int_t      count;
    LDAPControl  **ctrls, *ctrl;
    struct berval  cookie;

    *code = LDAP_OTHER;
    text[0] = '\0';
    msg = NULL;
    ctrls = NULL;

    rc = ldap_parse_result(r->ld, r->msg, code, NULL, &msg, NULL,
                           paged ? &ctrls : NULL, 0);

    if (rc != LDAP_SUCCESS) {
        *code = rc;
    }

    if (msg) {
        ngx_exa_lr_escape(text, size, msg, strlen(msg));
        ldap_memfree(msg);
    }

    if (*code != LDAP_SUCCESS) {
        ldap_controls_free(ctrls);
        return 1;
    }

    if (!paged) {
        return 0;
    }

    if (r->cookie) {
        ber_bvfree(r->cookie);
        r->cookie = NULL;
    }

    ctrl = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL);

    if (ctrl == NULL) {
        /* the server did not page: everything came at once */
        ldap_controls_free(ctrls);
        return 0;
    }

    cookie.bv_val = NULL;
    cookie.bv_len = 0;

    /* libldap reads a control without a value through a NULL pointer */

    if (ctrl->ldctl_value.bv_val == NULL || ctrl->ldctl_value.bv_len == 0) {
        ldap_controls_free(ctrls);
        return ngx_exa_lr_fail(r, 1, "a paged results control without a "
                               "value");
    }

    rc = ldap_parse_pageresponse_control(r->ld, ctrl, &count, &cookie);

    ldap_controls_free(ctrls);

    if (rc != LDAP_SUCCESS) {
        return ngx_exa_lr_fail(r, 1, "bad paged results control (%d: %s)",
                               rc, ldap_err2string(rc));
    }

    if (cookie.bv_len == 0) {
        ber_memfree(cookie.bv_val);
        return 0;
    }

    if (++r->pages > NGX_EXA_LR_PAGES_MAX) {
        ber_memfree(cookie.bv_val);
        return ngx_exa_lr_fail(r, 1, "more than %d pages of results",
                               NGX_EXA_LR_PAGES_MAX);
    }

    r->cookie = ber_bvdup(&cookie);
    ber_memfree(cookie.bv_val);

    if (r->cookie == NULL) {
        return ngx_exa_lr_fail(r, 0, "out of memory");
    }

    if (r->state == NGX_EXA_LR_SEARCH_USERS) {
        rc = ngx_exa_lr_search_users(r);

    } else {
        rc = ngx_exa_lr_list_groups(r);
    }

    return rc == NGX_EXA_LR_ERROR ? rc : 0;
}


/* bound: the domains first; walking, then which entries are groups */

static int
ngx_exa_lr_bound(ngx_exa_lr_t *r)
{
    if (r->conf->watch) {
        return ngx_exa_lw_start(r);
    }

    return r->conf->domains ? ngx_exa_lr_domains_start(r)
                            : ngx_exa_lr_groups(r);
}


/* the domains known: the groups */

static int
ngx_exa_lr_groups(ngx_exa_lr_t *r)
{
    if (r->conf->nested == NGX_EXA_LDAP_NESTED_CHAIN) {
        return ngx_exa_lr_read_groups(r);
    }

    r->state = NGX_EXA_LR_LIST_GROUPS;
    r->pages = 0;

    if (ngx_exa_lr_list_groups(r) == NGX_EXA_LR_ERROR) {
        return NGX_EXA_LR_ERROR;
    }

    return NGX_EXA_LR_NEXT;
}


/* a paged search for the DNs of all groups (walk and off) */

static int
ngx_exa_lr_list_groups(ngx_exa_lr_t *r)
{
    static const char  *attrs[] = { "1.1", NULL };

    return ngx_exa_lr_paged(r, "(|(objectClass=group)(objectClass=groupOfNames)"
                               "(objectClass=groupOfUniqueNames))", attrs);
}


/*
 * Reads the groups: the configured ones (does each exist, has it members)
 * and, walking, every nested one, a window of base searches at a time.
 * When all are read, searches the users.
 */

static int
ngx_exa_lr_read_groups(ngx_exa_lr_t *r)
{
    int                  rc;
    char                 range[64];
    size_t               i, s;
    const char          *attrs[3];
    ngx_exa_lr_group_t  *g;

    r->state = NGX_EXA_LR_READ_GROUPS;

    for (s = 0; s < NGX_EXA_LR_WINDOW && r->next_group < r->ngroups; s++) {

        if (r->reads[s].msgid != -1) {
            continue;
        }

        i = r->next_group;
        g = &r->groups[i];

        if (g->range) {
            snprintf(range, sizeof(range), "member;range=%zu-*", g->range);

        } else {
            snprintf(range, sizeof(range), "member");
        }

        attrs[0] = range;
        attrs[1] = "primaryGroupToken";
        attrs[2] = NULL;

        rc = ldap_search_ext(r->ld, (const char *) g->dn, LDAP_SCOPE_BASE,
                             "(objectClass=*)", (char **) attrs, 0, NULL,
                             NULL, NULL, 0, &r->reads[s].msgid);

        if (rc != LDAP_SUCCESS) {
            r->reads[s].msgid = -1;
            return ngx_exa_lr_fail(r, 1, "search request failed (%d: %s)",
                                   rc, ldap_err2string(rc));
        }

        r->reads[s].group = i;
        r->reads[s].entries = 0;
        r->next_group++;
        r->in_flight++;
    }

    if (r->in_flight) {
        return NGX_EXA_LR_NEXT;
    }

    /* every group read: the users; a delta, only those that changed */

    if (r->delta) {
        rc = ngx_exa_lr_fetch_start(r);
        if (rc != NGX_EXA_LR_FULL) {
            return rc;
        }

        ngx_exa_lr_model_full(r);
    }

    r->state = NGX_EXA_LR_SEARCH_USERS;
    r->pages = 0;

    if (r->conf->nested != NGX_EXA_LDAP_NESTED_CHAIN
        && r->members.nelts == 0)
    {
        /* the groups are really empty: an empty list is what was asked */
        return ngx_exa_lr_finish(r);
    }

    if (ngx_exa_lr_search_users(r) == NGX_EXA_LR_ERROR) {
        return NGX_EXA_LR_ERROR;
    }

    return NGX_EXA_LR_NEXT;
}


/* the end of one group read */

static int
ngx_exa_lr_group_result(ngx_exa_lr_t *r, size_t slot)
{
    int                  code;
    char                 text[160], dn[160];
    ngx_exa_lr_group_t  *g;

    g = &r->groups[r->reads[slot].group];

    r->reads[slot].msgid = -1;
    r->in_flight--;

    if (ngx_exa_lr_result(r, &code, text, sizeof(text), 0) != 0) {

        ngx_exa_lr_escape(dn, sizeof(dn), (const char *) g->dn, g->len);

        if (!g->configured && code == LDAP_NO_SUCH_OBJECT) {

            /* a nested group that went away: nothing to add */

            if (r->conf->note) {
                char  note[256];

                snprintf(note, sizeof(note), "nested group \"%s\" not found",
                         dn);
                r->conf->note(r->conf->data, note);
            }

            return ngx_exa_lr_read_groups(r);
        }

        return ngx_exa_lr_fail(r, ngx_exa_lr_server_fault(code),
                               "reading group \"%s\" failed (%d: %s%s%s)",
                               dn, code, ldap_err2string(code),
                               text[0] ? ", " : "", text);
    }

    /*
     * A base read that succeeds without the entry: the server hides the
     * group (an ACL that allows "search" and not "read"), or lies.  Its
     * members are unknown: the refresh fails, it does not read an empty
     * group (an empty group is an entry without member).
     */

    if (r->reads[slot].entries == 0) {
        ngx_exa_lr_escape(dn, sizeof(dn), (const char *) g->dn, g->len);

        return ngx_exa_lr_fail(r, 1, "group \"%s\" was not returned by its "
                               "base read (may the bind account read it?)",
                               dn);
    }

    return ngx_exa_lr_read_groups(r);
}


/*
 * The users: with "chain", the server finds the members of the groups at
 * any depth; otherwise every entry is read and the members found while
 * reading the groups are kept.
 */

static int
ngx_exa_lr_search_users(ngx_exa_lr_t *r)
{
    int                       rc;
    char                     *f, *p;
    size_t                    i, len, dlen;
    unsigned char            *esc;
    ngx_exa_lr_group_t       *g;
    const ngx_exa_lr_conf_t  *conf;

    conf = r->conf;

    if (conf->nested != NGX_EXA_LDAP_NESTED_CHAIN) {
        len = sizeof("(&(objectClass=*))") + strlen(conf->filter);

        f = malloc(len);
        if (f == NULL) {
            return ngx_exa_lr_fail(r, 0, "out of memory");
        }

        snprintf(f, len, "(&(objectClass=*)%s)", conf->filter);

        rc = ngx_exa_lr_paged(r, f, conf->attrs);

        free(f);
        return rc;
    }

    len = sizeof("(&(objectCategory=person)(objectClass=user)(|))")
          + strlen(conf->filter)
          + r->ngroups * sizeof("(primaryGroupID=)") + sizeof(g->token);

    for (i = 0; i < conf->ngroups; i++) {
        len += sizeof("(memberOf:" NGX_EXA_LR_IN_CHAIN ":=)")
               + 3 * strlen(conf->groups[i]);
    }

    f = malloc(len);
    esc = malloc(len);

    if (f == NULL || esc == NULL) {
        free(f);
        free(esc);
        return ngx_exa_lr_fail(r, 0, "out of memory");
    }

    p = f + sprintf(f, "(&(objectCategory=person)(objectClass=user)(|");

    for (i = 0; i < conf->ngroups; i++) {
        dlen = ngx_exa_ldap_escape((const unsigned char *) conf->groups[i],
                                   strlen(conf->groups[i]), esc);

        p += sprintf(p, "(memberOf:" NGX_EXA_LR_IN_CHAIN ":=%.*s)",
                     (int) dlen, (char *) esc);
    }

    /* members by primary group are not in member (AD), one clause a group */

    for (i = 0; i < r->ngroups; i++) {
        g = &r->groups[i];

        if (g->token[0]) {
            p += sprintf(p, "(primaryGroupID=%s)", g->token);
        }
    }

    sprintf(p, ")%s)", conf->filter);

    rc = ngx_exa_lr_paged(r, f, conf->attrs);

    free(f);
    free(esc);

    return rc;
}


static int
ngx_exa_lr_paged(ngx_exa_lr_t *r, const char *filter,
    const char * const *attrs)
{
    int           rc;
    LDAPControl  *ctrl, *ctrls[2];

    ctrl = NULL;

    rc = ldap_create_page_control(r->ld, NGX_EXA_LR_PAGE_SIZE, r->cookie, 0,
                                  &ctrl);
    if (rc != LDAP_SUCCESS) {
        return ngx_exa_lr_fail(r, 0, "ldap_create_page_control() failed "
                               "(%d: %s)", rc, ldap_err2string(rc));
    }

    ctrls[0] = ctrl;
    ctrls[1] = NULL;

    rc = ldap_search_ext(r->ld, r->conf->base, LDAP_SCOPE_SUBTREE, filter,
                         (char **) attrs, 0, ctrls, NULL, NULL, 0,
                         &r->msgid);

    ldap_control_free(ctrl);

    if (rc != LDAP_SUCCESS) {
        return ngx_exa_lr_fail(r, 1, "search request failed (%d: %s)",
                               rc, ldap_err2string(rc));
    }

    return NGX_EXA_LR_NEXT;
}


/*
 * The last page of users: is what was read a list?  Its keys' NetBIOS
 * names are counted next, a part at a time (ngx_exa_lr_check_names()).
 */

static int
ngx_exa_lr_finish(ngx_exa_lr_t *r)
{
    if (r->nkeys == 0 && r->group_values > 0) {

        if (r->conf->nested == NGX_EXA_LDAP_NESTED_CHAIN) {
            return ngx_exa_lr_fail(r, 0, "the in-chain search ("
                                   NGX_EXA_LR_IN_CHAIN ") found nobody "
                                   "although the groups have %zu members: "
                                   "the server may not support it, use "
                                   "\"ldap_nested walk\"", r->group_values);
        }

        /* never replace a list by an empty one when the groups have members */

        return ngx_exa_lr_fail(r, 0, "the groups have %zu members but no name "
                               "was found: check ldap_nested, ldap_filter and "
                               "ldap_user_attributes", r->group_values);
    }

    ngx_exa_table_tags_start(&r->tagger, r->keys, r->nkeys);
    r->state = NGX_EXA_LR_CHECK_NAMES;

    return NGX_EXA_LR_NEXT;
}


/* the keys' NetBIOS names: NGX_EXA_LR_PARTIAL when the call's time is up */

static int
ngx_exa_lr_check_names(ngx_exa_lr_t *r)
{
    while (ngx_exa_table_tags_step(&r->tagger, NGX_EXA_LR_TAGS_WORK)
           == NGX_EXA_TABLE_AGAIN)
    {
        if (ngx_exa_lr_timeup(r)) {
            return NGX_EXA_LR_PARTIAL;
        }
    }

    if (r->tagger.n > NGX_EXA_TAGS_MAX) {
        return ngx_exa_lr_fail(r, 0, "the names are in more than %d NetBIOS "
                               "domains", NGX_EXA_TAGS_MAX);
    }

    if (r->model) {
        r->model->epoch = r->epoch;
        r->model->members = r->members.nelts;
    }

    r->state = NGX_EXA_LR_DONE_STATE;

    return NGX_EXA_LR_DONE;
}
