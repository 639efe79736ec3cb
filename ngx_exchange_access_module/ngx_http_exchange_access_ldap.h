
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_HTTP_EXCHANGE_ACCESS_LDAP_H_INCLUDED_
#define _NGX_HTTP_EXCHANGE_ACCESS_LDAP_H_INCLUDED_


/*
 * The LDAP source, in three files: its directives and their checks
 * (ngx_http_exchange_access_ldap_conf.c), the refresh on nginx's event
 * loop (ngx_http_exchange_access_ldap.c), and the Sockbuf I/O layer that
 * lets libldap read and write an nginx connection
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


/* ldap_watch: off, or what the watch is asked to do (NGX_EXA_LW_MODE_*) */
#define NGX_HTTP_EXCHANGE_ACCESS_WATCH_OFF   0


typedef struct {
    ngx_str_t                         url;
    ngx_str_t                         host;       /* for SNI and the check */
    ngx_addr_t                       *addrs;
    ngx_uint_t                        naddrs;
    ngx_uint_t                        ldaps;      /* unsigned:1 */
} ngx_http_exchange_access_ldap_url_t;


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
#if (NGX_SSL)
    ngx_ssl_t                        *ssl;
#endif
} ngx_http_exchange_access_ldap_conf_t;


/* ngx_http_exchange_access_ldap.c */
void ngx_http_exchange_access_ldap_refresh(
    ngx_http_exchange_access_list_t *list, ngx_log_t *log);

void ngx_http_exchange_access_ldap_watch(
    ngx_http_exchange_access_list_t *list, ngx_log_t *log);

/* ngx_http_exchange_access_ldap_io.c */
typedef struct ngx_http_exchange_access_ldap_io_s
    ngx_http_exchange_access_ldap_io_t;

ngx_http_exchange_access_ldap_io_t *ngx_http_exchange_access_ldap_io(LDAP *ld,
    ngx_connection_t *c, ngx_pool_t *pool);
size_t ngx_http_exchange_access_ldap_io_buffered(
    ngx_http_exchange_access_ldap_io_t *io);
void ngx_http_exchange_access_ldap_keepalive(ngx_connection_t *c);


#endif /* _NGX_HTTP_EXCHANGE_ACCESS_LDAP_H_INCLUDED_ */
