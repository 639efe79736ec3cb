
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_HTTP_EXCHANGE_ACCESS_MODULE_H_INCLUDED_
#define _NGX_HTTP_EXCHANGE_ACCESS_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_exa_table.h"
#include "ngx_exa_classify.h"
#include "ngx_exa_credential.h"
#include "ngx_exa_name.h"
#include "ngx_exa_ldap.h"
#include "ngx_exa_regex.h"


#define NGX_HTTP_EXCHANGE_ACCESS_SRC_NONE   0
#define NGX_HTTP_EXCHANGE_ACCESS_SRC_FILE   1
#define NGX_HTTP_EXCHANGE_ACCESS_SRC_LDAP   2
#define NGX_HTTP_EXCHANGE_ACCESS_SRC_STATE  3

#define NGX_HTTP_EXCHANGE_ACCESS_NESTED_OFF    0
#define NGX_HTTP_EXCHANGE_ACCESS_NESTED_CHAIN  1
#define NGX_HTTP_EXCHANGE_ACCESS_NESTED_WALK   2

#define NGX_HTTP_EXCHANGE_ACCESS_ERR_LEN    256

/* decisions, as $exchange_access shows them */
#define NGX_HTTP_EXCHANGE_ACCESS_PASS       1
#define NGX_HTTP_EXCHANGE_ACCESS_ALLOW      2
#define NGX_HTTP_EXCHANGE_ACCESS_DENY       3
#define NGX_HTTP_EXCHANGE_ACCESS_AUDITED    4
#define NGX_HTTP_EXCHANGE_ACCESS_DECISIONS  5

/* what a list block line handler returns for a line it does not know */
#define NGX_HTTP_EXCHANGE_ACCESS_NOT_MINE   ((char *) -2)


/* a generation of the table, as it lives in the zone */

typedef struct ngx_http_exchange_access_gen_s
    ngx_http_exchange_access_gen_t;

struct ngx_http_exchange_access_gen_s {
    ngx_http_exchange_access_gen_t   *next;       /* retired chain */
    time_t                            retired;
    ngx_uint_t                        generation;
    /* ngx_exa_table_t follows, aligned */
};


typedef struct {
    /* read by every request without a lock: published with one store */
    ngx_exa_table_t * volatile        table;

    ngx_http_exchange_access_gen_t   *current;
    ngx_http_exchange_access_gen_t   *retired;
    ngx_uint_t                        generation;
    time_t                            loaded;     /* last table installed */
    ngx_uint_t                        nelts;
    ngx_uint_t                        source;     /* of the current table */

    /* refreshes: one worker at a time, under a lease that expires */
    ngx_pid_t                         lease_pid;
    time_t                            lease_until;
    time_t                            next_refresh;
    time_t                            last_attempt;
    time_t                            last_success;
    ngx_msec_t                        last_duration;
    ngx_uint_t                        attempts;
    ngx_uint_t                        failures;
    ngx_uint_t                        failing;    /* unsigned:1 */
    ngx_uint_t                        stale;      /* unsigned:1 */
    time_t                            file_mtime;
    u_char                            error[NGX_HTTP_EXCHANGE_ACCESS_ERR_LEN];

    /* why the last write of the state file failed; empty: it worked */
    u_char                      state_error[NGX_HTTP_EXCHANGE_ACCESS_ERR_LEN];
} ngx_http_exchange_access_shctx_t;


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
#if (NGX_SSL)
    ngx_ssl_t                        *ssl;
#endif
} ngx_http_exchange_access_ldap_conf_t;


typedef struct {
    ngx_str_t                         name;
    ngx_uint_t                        defined;    /* unsigned:1 */
    ngx_uint_t                        source;
    size_t                            size;

    ngx_str_t                         file;
    time_t                            file_mtime;
    ngx_array_t                      *keys;       /* of ngx_exa_str_t */
    ngx_uint_t                        keys_source;

    ngx_http_exchange_access_ldap_conf_t  *ldap;
    time_t                            refresh;
    ngx_str_t                         state_file;

    /* per worker */
    ngx_event_t                       timer;
    ngx_msec_t                        started;    /* the refresh under way */
    void                             *running;    /* a refresh under way */

    ngx_shm_zone_t                   *shm_zone;
    ngx_slab_pool_t                  *shpool;
    ngx_http_exchange_access_shctx_t *sh;

    /* where the list was first referenced, for errors */
    u_char                           *conf_file;
    ngx_uint_t                        conf_line;
} ngx_http_exchange_access_list_t;


/* request counters, summed over the workers: updated with atomic adds */

typedef struct {
    ngx_atomic_t                      requests[NGX_EXA_PROTO_N]
                                          [NGX_HTTP_EXCHANGE_ACCESS_DECISIONS];
    time_t                            started;
} ngx_http_exchange_access_stats_t;


typedef struct {
    ngx_array_t                       lists;      /* of list_t * */
    ngx_shm_zone_t                   *stats_zone;
    ngx_http_exchange_access_stats_t *stats;
} ngx_http_exchange_access_main_conf_t;


ngx_http_exchange_access_list_t *ngx_http_exchange_access_list_get(
    ngx_conf_t *cf, ngx_str_t *name);
char *ngx_http_exchange_access_list_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_exchange_access_list_check(ngx_conf_t *cf);
ngx_int_t ngx_http_exchange_access_list_lookup(
    ngx_http_exchange_access_list_t *list, u_char *key, size_t len);
ngx_int_t ngx_http_exchange_access_list_install(
    ngx_http_exchange_access_list_t *list, ngx_array_t *keys,
    ngx_uint_t source, ngx_log_t *log);
ngx_int_t ngx_http_exchange_access_list_parse(
    ngx_http_exchange_access_list_t *list, ngx_str_t *name, u_char *p,
    size_t size, ngx_pool_t *pool, ngx_array_t *keys, ngx_log_t *log);
ngx_int_t ngx_http_exchange_access_list_init_worker(ngx_cycle_t *cycle);
void ngx_http_exchange_access_list_done(ngx_http_exchange_access_list_t *list,
    ngx_array_t *keys, const char *error, ngx_log_t *log);

ngx_int_t ngx_http_exchange_access_stats_init(ngx_conf_t *cf);
void ngx_http_exchange_access_count(ngx_http_request_t *r,
    ngx_uint_t protocol, ngx_uint_t decision);
char *ngx_http_exchange_access_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
extern ngx_str_t  ngx_http_exchange_access_decision_names[];

char *ngx_http_exchange_access_ldap_param(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list);
char *ngx_http_exchange_access_ldap_check(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list);
void ngx_http_exchange_access_ldap_refresh(
    ngx_http_exchange_access_list_t *list, ngx_log_t *log);


extern ngx_module_t  ngx_http_exchange_access_module;


#endif /* _NGX_HTTP_EXCHANGE_ACCESS_MODULE_H_INCLUDED_ */
