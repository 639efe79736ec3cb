
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_EXA_LDAP_REFRESH_H_INCLUDED_
#define _NGX_EXA_LDAP_REFRESH_H_INCLUDED_


/*
 * What a refresh of an LDAP list asks the directory and how it reads the
 * answers: requests are sent and answers decoded by libldap on an LDAP
 * handle whose connection is the caller's (nginx's, or a buffer in tests
 * and fuzzing).  No nginx dependency; every answer is hostile: work per
 * call, memory, and what a value may become are bounded here.
 *
 * The states of a refresh, with the caller's two first (it owns the
 * connection and TLS):
 *
 *   connect --> tls (ldaps) ----------------+
 *      |                                    v
 *      +------> starttls --> tls --------> bind
 *      |                                    |
 *      +------------------------------------+
 *                                           |
 *                                           v
 *                                    read_domains (root DSE, then the
 *                                           |      crossRefs: AD's NetBIOS
 *                                           |      names of its domains)
 *             +-----------------------------+---------------+
 *             | walk, off                                   | chain
 *             v                                             v
 *        list_groups (paged: the DNs of all groups) --> read_groups
 *                                                 (base reads of groups,
 *                                                  a window at a time;
 *                                                  walk: nested ones too;
 *                                                  ranges of member)
 *                                                           |
 *                                                           v
 *                                    search_users (paged) --> done
 *
 * Any state may end in "failed".  ngx_exa_lr_step() reads what the
 * connection has and returns when it must wait for more, when it has
 * worked for step_usec, or at the end.
 *
 * A watch (conf->watch) binds the same way, then looks for changes
 * instead of reading the list (ngx_exa_ldap_watch.c):
 *
 *   bind --> watch_detect (the root DSE: highestCommittedUSN? then the
 *                 |         base entry: contextCSN? else modifyTimestamp)
 *                 v
 *   +------> watch_idle --(ngx_exa_lr_poll() after the interval)--+
 *   |             ^                                               |
 *   |             +------- nothing changed (NGX_EXA_LR_IDLE) ------+
 *   |                                                             v
 *   +-- changed (NGX_EXA_LR_CHANGED) <-- [watch_mark] <---- watch_poll
 *                                   (AD: highestCommittedUSN again)
 *
 * or, asked to (conf->watch), one search that stays open and answers an
 * entry for every change (NGX_EXA_LR_CHANGED each time):
 *
 *   bind --> watch_persist (AD's notification control)
 *   bind --> watch_detect (contextCSN) --> watch_persist (RFC 4533
 *            refreshAndPersist from that CSN)
 *
 * and when the server refuses it, the polls above.
 */


#include <stddef.h>
#include <ldap.h>

#include "ngx_exa_table.h"
#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


#define NGX_EXA_LDAP_NESTED_OFF     0
#define NGX_EXA_LDAP_NESTED_CHAIN   1
#define NGX_EXA_LDAP_NESTED_WALK    2


/* what the functions below return */
#define NGX_EXA_LR_AGAIN            0    /* wait until the connection reads */
#define NGX_EXA_LR_YIELD            1    /* a call's work is done: call again */
#define NGX_EXA_LR_TLS              2    /* StartTLS accepted: handshake */
#define NGX_EXA_LR_DONE             3    /* the list is read */
#define NGX_EXA_LR_ERROR            4    /* failed: ngx_exa_lr_error() */
#define NGX_EXA_LR_IDLE             5    /* watch: nothing changed */
#define NGX_EXA_LR_CHANGED          6    /* watch: something changed */

/* how a watch sees changes */
#define NGX_EXA_LW_NONE             0    /* not known yet */
#define NGX_EXA_LW_USN              1    /* uSNChanged (Active Directory) */
#define NGX_EXA_LW_CSN              2    /* contextCSN of the base entry */
#define NGX_EXA_LW_MODIFIED         3    /* modifyTimestamp of entries */
#define NGX_EXA_LW_NOTIFY           4    /* AD's change notifications */
#define NGX_EXA_LW_SYNC             5    /* RFC 4533 refreshAndPersist */

/* what a watch is asked to do (conf->watch) */
#define NGX_EXA_LW_MODE_POLL        1
#define NGX_EXA_LW_MODE_NOTIFY      2
#define NGX_EXA_LW_MODE_SYNC        3

#define NGX_EXA_LW_NOTIFY_OID       "1.2.840.113556.1.4.528"


typedef enum {
    NGX_EXA_LR_CONNECT = 0,
    NGX_EXA_LR_HANDSHAKE,
    NGX_EXA_LR_STARTTLS,
    NGX_EXA_LR_BIND,
    NGX_EXA_LR_READ_DOMAINS,
    NGX_EXA_LR_LIST_GROUPS,
    NGX_EXA_LR_READ_GROUPS,
    NGX_EXA_LR_SEARCH_USERS,
    NGX_EXA_LR_DONE_STATE,
    NGX_EXA_LR_FAILED,
    NGX_EXA_LR_WATCH_DETECT,
    NGX_EXA_LR_WATCH_IDLE,
    NGX_EXA_LR_WATCH_POLL,
    NGX_EXA_LR_WATCH_MARK,
    NGX_EXA_LR_WATCH_PERSIST,
    NGX_EXA_LR_FETCH_USERS,
    NGX_EXA_LR_BUILD_LIST,
    NGX_EXA_LR_CHECK_NAMES,
    NGX_EXA_LR_NSTATES
} ngx_exa_lr_state_e;


typedef void (*ngx_exa_lr_note_pt)(void *data, const char *text);


typedef struct {
    const char                *base;
    const char * const        *groups;       /* DNs */
    size_t                     ngroups;
    int                        nested;       /* NGX_EXA_LDAP_NESTED_* */
    const char                *filter;       /* "" or "(...)" */
    const char * const        *attrs;        /* ends with NULL */
    const char                *bind_dn;      /* "" for anonymous */
    const char                *password;
    size_t                     password_len;
    int                        domains;      /* tag logon names (AD) */

    size_t                     zone_size;    /* for messages */
    size_t                     table_max;    /* bytes the table may take */
    size_t                     memory_max;   /* bytes of working memory */
    size_t                     message_max;  /* bytes of one message */
    unsigned                   step_usec;    /* work of one call */
    int                        watch;        /* NGX_EXA_LW_MODE_*, or 0 */

    ngx_exa_lr_note_pt         note;         /* things worth a log line */
    void                      *data;
} ngx_exa_lr_conf_t;


typedef struct {
    size_t                     entries;
    size_t                     ignored;      /* messages not asked for */
    size_t                     refused;      /* values that are no names */
    size_t                     skipped;      /* over-long DNs */
    size_t                     memory;       /* bytes in use, at most */
} ngx_exa_lr_stats_t;


typedef struct ngx_exa_lr_s  ngx_exa_lr_t;

/*
 * What a refresh that walks the groups (walk, off) knows after it ends:
 * every member's DN and names, kept by the worker for the next refresh,
 * which then applies the changes a watch saw (ngx_exa_ldap_delta.c).
 */

typedef struct ngx_exa_lm_s  ngx_exa_lm_t;


ngx_exa_lr_t *ngx_exa_lr_create(const ngx_exa_lr_conf_t *conf, LDAP *ld);
void ngx_exa_lr_destroy(ngx_exa_lr_t *r);
void ngx_exa_lr_detach(ngx_exa_lr_t *r);
int ngx_exa_lr_free(ngx_exa_lr_t *r, size_t bytes);

int ngx_exa_lr_starttls(ngx_exa_lr_t *r);
int ngx_exa_lr_bind(ngx_exa_lr_t *r);
int ngx_exa_lr_step(ngx_exa_lr_t *r);

int ngx_exa_lr_state(ngx_exa_lr_t *r);
const char *ngx_exa_lr_state_name(int state);
int ngx_exa_lr_progress(ngx_exa_lr_t *r);
const char *ngx_exa_lr_error(ngx_exa_lr_t *r);
int ngx_exa_lr_retry(ngx_exa_lr_t *r);
const ngx_exa_str_t *ngx_exa_lr_keys(ngx_exa_lr_t *r, size_t *n);
const ngx_exa_lr_stats_t *ngx_exa_lr_stats(ngx_exa_lr_t *r);

int ngx_exa_lr_poll(ngx_exa_lr_t *r);
int ngx_exa_lr_persistent(ngx_exa_lr_t *r);
int ngx_exa_lr_watch_kind(ngx_exa_lr_t *r);
const char *ngx_exa_lr_watch_name(int kind);
long long ngx_exa_lr_changed_at(ngx_exa_lr_t *r);
long long ngx_exa_lr_gentime(const char *s, size_t len);

size_t ngx_exa_lr_escape(char *out, size_t size, const char *s, size_t len);

ngx_exa_lm_t *ngx_exa_lm_create(size_t memory_max);
void ngx_exa_lm_destroy(ngx_exa_lm_t *m);
size_t ngx_exa_lm_members(const ngx_exa_lm_t *m);
size_t ngx_exa_lm_memory(const ngx_exa_lm_t *m);
void ngx_exa_lr_record(ngx_exa_lr_t *r, ngx_exa_lm_t *m);
int ngx_exa_lr_apply(ngx_exa_lr_t *r, ngx_exa_lm_t *m,
    const ngx_exa_str_t *dns, size_t n);
int ngx_exa_lr_delta(ngx_exa_lr_t *r);
int ngx_exa_lr_changes(ngx_exa_lr_t *r, const ngx_exa_str_t **dns,
    size_t *n);


NGX_EXA_HIDDEN_END


#endif /* _NGX_EXA_LDAP_REFRESH_H_INCLUDED_ */
