
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_HTTP_EXCHANGE_ACCESS_LDAP_H_INCLUDED_
#define _NGX_HTTP_EXCHANGE_ACCESS_LDAP_H_INCLUDED_


/*
 * The LDAP source, in four files: its directives and their checks
 * (ngx_http_exchange_access_ldap_conf.c), the refresh on nginx's event
 * loop (ngx_http_exchange_access_ldap.c) and the parts of it that end
 * nothing (ngx_http_exchange_access_ldap_ctx.c), and the Sockbuf I/O
 * layer that lets libldap read and write an nginx connection
 * (ngx_http_exchange_access_ldap_io.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ldap.h>
#include <lber.h>
#include <openldap.h>

#include "ngx_http_exchange_access_module.h"
#include "ngx_exa_ldap_refresh.h"
#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


/* ldap_watch: off, or what the watch is asked to do (NGX_EXA_LW_MODE_*) */
#define NGX_HTTP_EXCHANGE_ACCESS_WATCH_OFF   0

/* changed entries kept for the next refresh, by DN */
#define NGX_HTTP_EXCHANGE_ACCESS_LDAP_CHANGES  256


typedef struct {
    ngx_str_t                         url;
    ngx_str_t                         host;       /* for SNI and the check */
    ngx_addr_t                       *addrs;
    ngx_uint_t                        naddrs;
    ngx_uint_t                        ldaps;      /* unsigned:1 */
} ngx_http_exchange_access_ldap_url_t;


/*
 * What the last refresh in this worker knew of the members, and the
 * changes the watch saw here since: the next refresh applies them to it
 * (ngx_exa_lr_apply()) when it has every change by its DN.
 */

typedef struct {
    ngx_exa_lm_t                     *model;
    ngx_uint_t                        seq;        /* the changes it has */
    time_t                            full;       /* its last full read */
    ngx_exa_str_t                    *dns;        /* seen since, malloc()ed */
    size_t                            ndns;
    ngx_uint_t                        changes;    /* seen since */
    ngx_uint_t                        unnamed;    /* unsigned:1 */
} ngx_http_exchange_access_ldap_known_t;


typedef struct {
    ngx_array_t                      *urls;       /* of ldap_url_t */
    ngx_flag_t                        starttls;
    ngx_flag_t                        verify;
    ngx_str_t                         trusted;
    ngx_str_t                         bind_dn;
    ngx_str_t                         password;
    ngx_str_t                         password_file;
    ngx_str_t                         base;
    ngx_array_t                      *groups;     /* of ngx_str_t, with NUL */
    ngx_uint_t                        nested;
    ngx_str_t                         filter;
    ngx_array_t                      *attrs;      /* of char *, with NUL */
    ngx_msec_t                        timeout;
    ngx_msec_t                        refresh_timeout;
    ngx_uint_t                        watch;      /* WATCH_OFF, LW_MODE_* */
    ngx_msec_t                        watch_interval;

    /* for the refresh's logic, made from the above */
    ngx_exa_lr_conf_t                 lr;

    /* per worker */
    ngx_http_exchange_access_ldap_known_t  known;
#if (NGX_SSL)
    ngx_ssl_t                        *ssl;
#endif
} ngx_http_exchange_access_ldap_conf_t;


/* ngx_http_exchange_access_ldap_io.c */
typedef struct ngx_http_exchange_access_ldap_io_s
    ngx_http_exchange_access_ldap_io_t;


/* a refresh or a watch under way: ngx_http_exchange_access_ldap.c */

typedef struct {
    ngx_http_exchange_access_list_t      *list;
    ngx_http_exchange_access_ldap_conf_t *lcf;
    ngx_pool_t                           *pool;
    ngx_log_t                            *log;

    ngx_peer_connection_t                 peer;
    LDAP                                 *ld;
    ngx_exa_lr_t                         *lr;
    ngx_exa_lr_conf_t                     lrcf;
    ngx_http_exchange_access_ldap_io_t   *io;

    ngx_uint_t                            url;
    ngx_uint_t                            addr;
    ngx_uint_t                            state;      /* before lr exists */
    ngx_event_t                           resume;     /* after a yield */
    ngx_event_t                           deadline;
    ngx_event_t                           tick;       /* the next poll */
    time_t                                renewed;    /* the lease, last */
    ngx_uint_t                            watch;      /* unsigned:1 */
    ngx_uint_t                            ready;      /* unsigned:1 */
    ngx_uint_t                            lost;       /* unsigned:1 */
    ngx_uint_t                            installing; /* unsigned:1 */
    ngx_uint_t                            installed;  /* unsigned:1 */

    ngx_array_t                           keys;       /* what was read */

    /* the model of the members: changed (a delta), or recorded */
    ngx_exa_lm_t                         *model;
    ngx_exa_str_t                        *changed;
    size_t                                nchanged;
    ngx_uint_t                            seq;
    ngx_uint_t                            delta;      /* unsigned:1 */
    ngx_uint_t                            tries;      /* servers tried */
    ngx_http_exchange_access_install_t    install;

    u_char                    error[NGX_HTTP_EXCHANGE_ACCESS_ERR_LEN];
} ngx_http_exchange_access_ldap_ctx_t;


/* ngx_http_exchange_access_ldap.c */
void ngx_http_exchange_access_ldap_refresh(
    ngx_http_exchange_access_list_t *list, ngx_log_t *log);

void ngx_http_exchange_access_ldap_watch(
    ngx_http_exchange_access_list_t *list, ngx_log_t *log);

/* ngx_http_exchange_access_ldap_ctx.c */
ngx_http_exchange_access_ldap_url_t *ngx_http_exchange_access_ldap_u(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
#if (NGX_SSL)
const char *ngx_http_exchange_access_ldap_verify(
    ngx_http_exchange_access_ldap_ctx_t *ctx, ngx_connection_t *c,
    u_char *buf, size_t size);
#endif
ngx_int_t ngx_http_exchange_access_ldap_wait(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
void ngx_http_exchange_access_ldap_progress(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
void ngx_http_exchange_access_ldap_renew(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
const char *ngx_http_exchange_access_ldap_state(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
void ngx_http_exchange_access_ldap_note(void *data, const char *text);
void ngx_http_exchange_access_ldap_limits(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
void ngx_http_exchange_access_ldap_seen(
    ngx_http_exchange_access_ldap_ctx_t *ctx, ngx_uint_t named);
void ngx_http_exchange_access_ldap_known_free(void *data);
void ngx_http_exchange_access_ldap_free(ngx_exa_lr_t *lr);
void ngx_http_exchange_access_ldap_drop(void *data);
void ngx_http_exchange_access_ldap_plan(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
ngx_int_t ngx_http_exchange_access_ldap_model(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
void ngx_http_exchange_access_ldap_keep(
    ngx_http_exchange_access_ldap_ctx_t *ctx, ngx_uint_t ok);

/* ngx_http_exchange_access_ldap_io.c */
ngx_http_exchange_access_ldap_io_t *ngx_http_exchange_access_ldap_io(LDAP *ld,
    ngx_connection_t *c, ngx_pool_t *pool);
size_t ngx_http_exchange_access_ldap_io_buffered(
    ngx_http_exchange_access_ldap_io_t *io);
void ngx_http_exchange_access_ldap_keepalive(ngx_connection_t *c);


NGX_EXA_HIDDEN_END


#endif /* _NGX_HTTP_EXCHANGE_ACCESS_LDAP_H_INCLUDED_ */
