
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


#define NGX_HTTP_EXCHANGE_ACCESS_SRC_NONE   0
#define NGX_HTTP_EXCHANGE_ACCESS_SRC_FILE   1
#define NGX_HTTP_EXCHANGE_ACCESS_SRC_LDAP   2


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
} ngx_http_exchange_access_shctx_t;


typedef struct {
    ngx_str_t                         name;
    ngx_uint_t                        defined;    /* unsigned:1 */
    ngx_uint_t                        source;
    size_t                            size;

    ngx_str_t                         file;
    ngx_array_t                      *keys;       /* of ngx_str_t */

    ngx_shm_zone_t                   *shm_zone;
    ngx_slab_pool_t                  *shpool;
    ngx_http_exchange_access_shctx_t *sh;

    /* where the list was first referenced, for errors */
    u_char                           *conf_file;
    ngx_uint_t                        conf_line;
} ngx_http_exchange_access_list_t;


typedef struct {
    ngx_array_t                       lists;      /* of list_t * */
    ngx_exa_name_conf_t               names;      /* of list entries */
} ngx_http_exchange_access_main_conf_t;


ngx_http_exchange_access_list_t *ngx_http_exchange_access_list_get(
    ngx_conf_t *cf, ngx_str_t *name);
char *ngx_http_exchange_access_list_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_exchange_access_list_check(ngx_conf_t *cf);
ngx_int_t ngx_http_exchange_access_list_lookup(
    ngx_http_exchange_access_list_t *list, u_char *key, size_t len);


extern ngx_module_t  ngx_http_exchange_access_module;


#endif /* _NGX_HTTP_EXCHANGE_ACCESS_MODULE_H_INCLUDED_ */
