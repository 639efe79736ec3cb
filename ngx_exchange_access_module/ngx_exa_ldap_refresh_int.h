
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_EXA_LDAP_REFRESH_INT_H_INCLUDED_
#define _NGX_EXA_LDAP_REFRESH_INT_H_INCLUDED_


/*
 * What the two files of the LDAP refresh share: ngx_exa_ldap_refresh.c
 * (requests, results, states) and ngx_exa_ldap_entry.c (what the values
 * of an entry become).  Not for other files.
 */


#include <time.h>
#include <lber.h>
#include <ldap.h>

#include "ngx_exa_ldap_refresh.h"
#include "ngx_exa_set.h"
#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


#define NGX_EXA_LR_PAGE_SIZE     1000
#define NGX_EXA_LR_PAGES_MAX     100000
#define NGX_EXA_LR_DEPTH_MAX     32
#define NGX_EXA_LR_WINDOW        32
#define NGX_EXA_LR_DN_MAX        1024
#define NGX_EXA_LR_CHECK         64       /* empty reads before a yield */
#define NGX_EXA_LR_CLOCK         4        /* work between clock reads */
#define NGX_EXA_LR_TAGS_WORK     64       /* keys per unit of work */

#define NGX_EXA_LR_IN_CHAIN      "1.2.840.113556.1.4.1941"

#define NGX_EXA_LR_FETCH_MAX     1000     /* members a change may add */
#define NGX_EXA_LR_CHANGES_MAX   256      /* DNs a watch keeps */

/* how the message at hand went */
#define NGX_EXA_LR_NEXT          10       /* read the next message */
#define NGX_EXA_LR_PARTIAL       11       /* the message is not done */

/* what the values of an attribute are */
#define NGX_EXA_LR_ATTR_NONE     0        /* skipped */
#define NGX_EXA_LR_ATTR_MEMBER   1
#define NGX_EXA_LR_ATTR_TOKEN    2        /* primaryGroupToken */
#define NGX_EXA_LR_ATTR_NAME     3        /* one of conf->attrs */

#define NGX_EXA_LR_ATTR_CONFIG   4        /* configurationNamingContext */
#define NGX_EXA_LR_ATTR_NETBIOS  5        /* nETBIOSName */
#define NGX_EXA_LR_ATTR_NCNAME   6        /* nCName */
#define NGX_EXA_LR_ATTR_CLASS    7        /* objectClass, of a member */

/* a change that only a full read can apply (ngx_exa_lr_apply()) */
#define NGX_EXA_LR_FULL          12

/* what a name attribute holds */
#define NGX_EXA_LR_NAME_LOGON    0        /* sAMAccountName, uid: "user" */
#define NGX_EXA_LR_NAME_UPN      1        /* userPrincipalName: "user@x" */
#define NGX_EXA_LR_NAME_ANY      2        /* others: either, as it is */


typedef struct {
    const unsigned char       *dn;        /* normalised for messages */
    size_t                     len;
    unsigned                   depth;
    unsigned                   configured;
    size_t                     range;     /* first member value to read */
    char                       token[12]; /* its primaryGroupToken, digits */
} ngx_exa_lr_group_t;


typedef struct {
    unsigned char             *nc;        /* naming context, normalised */
    size_t                     len;
    char                       netbios[16];  /* lower case */
} ngx_exa_lr_domain_t;


/* a member of the model: its record is kept in front of its DN */

typedef struct {
    ngx_exa_str_t             *keys;      /* its names */
    uint32_t                   nkeys;
    uint32_t                   epoch;     /* of the last read it was in */
    uint32_t                   queued;    /* the epoch it was read again */
    uint32_t                   reserved;
} ngx_exa_lm_user_t;

#define ngx_exa_lm_user(data)                                               \
    ((ngx_exa_lm_user_t *) (void *) ((unsigned char *) (data)                \
                                     - sizeof(ngx_exa_lm_user_t)))


struct ngx_exa_lm_s {
    ngx_exa_mem_t              mem;
    ngx_exa_arena_t            arena;
    ngx_exa_set_t              users;     /* DNs, normalised */
    ngx_exa_lm_user_t        **list;      /* every record, as added */
    size_t                     nlist;
    size_t                     list_size;
    size_t                     members;   /* at the last read */
    uint32_t                   epoch;     /* of the last read that ended */
};


/* a member to read alone: new to the groups, or changed */

typedef struct {
    ngx_exa_lm_user_t         *user;
    const unsigned char       *dn;        /* as the server wrote it, NUL */
    size_t                     len;
} ngx_exa_lr_fetch_t;


typedef struct {
    int                        msgid;     /* -1: free */
    size_t                     group;
    unsigned                   entries;
} ngx_exa_lr_read_t;


struct ngx_exa_lr_s {
    const ngx_exa_lr_conf_t   *conf;
    LDAP                      *ld;
    int                        state;
    int                        msgid;     /* of the one request in flight */
    int                        progress;
    int                        stalls;    /* calls that read nothing */
    size_t                     stalled;   /* r->received at the last */
    int                        retry;
    struct timespec            started;   /* of the call under way */
    unsigned                   work;

    /* the message at hand, and where in it */
    LDAPMessage               *msg;
    BerElement                *ber;
    char                      *last;      /* end of the value set */
    int                        attr;      /* NGX_EXA_LR_ATTR_* */
    int                        nmember;   /* member attributes seen */
    size_t                     group;     /* whose entry it is */
    int                        kind;      /* NGX_EXA_LR_NAME_* */

    /* the frame of the message being read (ngx_exa_ldap_frame.c) */
    unsigned char              frame[24];
    size_t                     frame_len;
    size_t                     frame_left;
    size_t                     received;  /* bytes from the server */
    int                        framed;
    char                       frame_error[96];

    /* working memory */
    ngx_exa_mem_t              mem;
    ngx_exa_arena_t            arena;

    /* Active Directory's domains (ngx_exa_ldap_domain.c) */
    int                        domains_step;
    char                      *config_nc;
    size_t                     config_nc_len;
    ngx_exa_lr_domain_t       *domains;
    size_t                     ndomains;
    size_t                     domains_size;
    char                       cur_netbios[16];
    unsigned char              cur_nc[NGX_EXA_LR_DN_MAX];
    size_t                     cur_nc_len;
    const char                *netbios;   /* of the user entry at hand */

    /* groups: a queue of reads, a window of them in flight */
    ngx_exa_lr_group_t        *groups;
    size_t                     ngroups;
    size_t                     groups_size;
    size_t                     next_group;
    ngx_exa_lr_read_t          reads[NGX_EXA_LR_WINDOW];
    size_t                     in_flight;
    ngx_exa_set_t              seen;      /* group DNs read or queued */
    ngx_exa_set_t              all_groups;
    ngx_exa_set_t              members;
    size_t                     group_values;

    /* paging */
    struct berval             *cookie;
    size_t                     pages;

    /* the list */
    ngx_exa_str_t             *keys;
    size_t                     nkeys;
    size_t                     keys_size;
    size_t                     keybytes;
    ngx_exa_table_tagger_t     tagger;    /* their NetBIOS names, counted */

    /* a watch (ngx_exa_ldap_watch.c) */
    int                        w_kind;    /* NGX_EXA_LW_* */
    int                        w_base;    /* the first poll: a baseline */
    int                        w_cut;     /* a poll's result was cut */
    unsigned                   w_entries;  /* of the poll at hand */
    unsigned long long         w_usn;     /* AD: the highest USN seen */
    unsigned long long         w_usn_seen;
    char                       w_csn[72];  /* the base's contextCSN */
    char                       w_csn_seen[72];
    long long                  w_mod;     /* modifyTimestamp: newest, usec */
    unsigned                   w_mod_n;   /* entries with it */
    long long                  w_mod_seen;
    unsigned                   w_mod_seen_n;
    long long                  w_at;      /* the change's time, usec */
    long long                  w_at_seen;

    /* the model: recorded by a full read, or changed by a delta */
    ngx_exa_lm_t              *model;
    int                        delta;     /* applying the watch's changes */
    uint32_t                   epoch;     /* this read's */
    ngx_exa_lm_user_t         *user;      /* the user entry at hand */
    size_t                     user_keys; /* r->nkeys at its start */
    ngx_exa_str_t             *changed;   /* DNs the watch saw, raw */
    size_t                     nchanged;
    ngx_exa_lr_fetch_t        *fetch;
    size_t                     nfetch;
    size_t                     fetch_size;
    size_t                     next_fetch;
    size_t                     next_build;

    /* the DNs of the changes a watch saw, for the caller */
    ngx_exa_str_t             *w_dns;
    size_t                     w_ndns;
    size_t                     w_dns_size;
    int                        w_dns_lost;

    ngx_exa_lr_stats_t         stats;
    char                       error[256];
};


int ngx_exa_lr_fail(ngx_exa_lr_t *r, int retry, const char *fmt, ...);
int ngx_exa_lr_nomem(ngx_exa_lr_t *r);
int ngx_exa_lr_fits(ngx_exa_lr_t *r, size_t n, size_t keybytes,
    const char *what);
int ngx_exa_lr_timeup(ngx_exa_lr_t *r);
int ngx_exa_lr_entry(ngx_exa_lr_t *r);
int ngx_exa_lr_frame_add(ngx_exa_lr_t *r);
int ngx_exa_lr_server_fault(int code);
int ngx_exa_lr_domains_start(ngx_exa_lr_t *r);
int ngx_exa_lr_domains_result(ngx_exa_lr_t *r, int code, const char *text);
int ngx_exa_lr_domains_value(ngx_exa_lr_t *r, struct berval *v);
int ngx_exa_lr_domains_entry(ngx_exa_lr_t *r);
const char *ngx_exa_lr_domain_of(ngx_exa_lr_t *r, const unsigned char *dn,
    size_t len);
void ngx_exa_lr_frame_del(ngx_exa_lr_t *r);
int ngx_exa_lw_start(ngx_exa_lr_t *r);
int ngx_exa_lw_message(ngx_exa_lr_t *r, int type);
int ngx_exa_lr_queue(ngx_exa_lr_t *r, const unsigned char *dn, size_t len,
    unsigned depth, unsigned configured, size_t range);
int ngx_exa_lr_model_member(ngx_exa_lr_t *r, const unsigned char *dn,
    size_t len, struct berval *raw);
int ngx_exa_lr_model_user(ngx_exa_lr_t *r, const unsigned char *dn,
    size_t len);
int ngx_exa_lr_model_keys(ngx_exa_lr_t *r);
int ngx_exa_lr_model_class(ngx_exa_lr_t *r, struct berval *v);
int ngx_exa_lr_fetch_start(ngx_exa_lr_t *r);
int ngx_exa_lr_fetch_send(ngx_exa_lr_t *r);
int ngx_exa_lr_fetch_entry(ngx_exa_lr_t *r, const unsigned char *dn,
    size_t len);
int ngx_exa_lr_fetch_result(ngx_exa_lr_t *r, size_t slot);
int ngx_exa_lr_build(ngx_exa_lr_t *r);
void ngx_exa_lr_model_full(ngx_exa_lr_t *r);
void ngx_exa_lw_dn(ngx_exa_lr_t *r);


NGX_EXA_HIDDEN_END


#endif /* _NGX_EXA_LDAP_REFRESH_INT_H_INCLUDED_ */
