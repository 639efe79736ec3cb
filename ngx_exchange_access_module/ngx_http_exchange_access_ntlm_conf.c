
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


/*
 * exchange_access_ntlm, the directive: its module, its configuration, and
 * the watch on the keepalive module's "keepalive" directive (a cached
 * upstream connection would carry one client's NTLM authentication to
 * another client).  When the configuration is read, the peer callbacks
 * of every upstream block with the directive are wrapped
 * (ngx_http_exchange_access_ntlm.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_ntlm.h"


#define NGX_HTTP_EXCHANGE_ACCESS_NTLM_TIMEOUT  60000


typedef char *(*ngx_http_exchange_access_set_pt)(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);


static void *ngx_http_exchange_access_ntlm_create_conf(ngx_conf_t *cf);
static char *ngx_http_exchange_access_ntlm(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_exchange_access_ntlm_keepalive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static void ngx_http_exchange_access_ntlm_unwrap(void *data);
static ngx_int_t ngx_http_exchange_access_ntlm_preconf(ngx_conf_t *cf);
static ngx_int_t ngx_http_exchange_access_ntlm_init(ngx_conf_t *cf);


static ngx_command_t  ngx_http_exchange_access_ntlm_commands[] = {

    { ngx_string("exchange_access_ntlm"),
      NGX_HTTP_UPS_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_exchange_access_ntlm,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_exchange_access_ntlm_module_ctx = {
    ngx_http_exchange_access_ntlm_preconf,     /* preconfiguration */
    ngx_http_exchange_access_ntlm_init,        /* postconfiguration */

    NULL,                                      /* create main configuration */
    NULL,                                      /* init main configuration */

    ngx_http_exchange_access_ntlm_create_conf, /* create server conf */
    NULL,                                      /* merge server conf */

    NULL,                                      /* create location conf */
    NULL                                       /* merge location conf */
};


ngx_module_t  ngx_http_exchange_access_ntlm_module = {
    NGX_MODULE_V1,
    &ngx_http_exchange_access_ntlm_module_ctx, /* module context */
    ngx_http_exchange_access_ntlm_commands,    /* module directives */
    NGX_HTTP_MODULE,                           /* module type */
    NULL,                                      /* init master */
    NULL,                                      /* init module */
    NULL,                                      /* init process */
    NULL,                                      /* init thread */
    NULL,                                      /* exit thread */
    NULL,                                      /* exit process */
    NULL,                                      /* exit master */
    NGX_MODULE_V1_PADDING
};


/* the "keepalive" directive, watched while the configuration is read */

static ngx_module_t                     *ngx_http_exchange_access_ka_module;
static ngx_command_t                    *ngx_http_exchange_access_ka_cmd;
static ngx_http_exchange_access_set_pt   ngx_http_exchange_access_ka_set;


static void *
ngx_http_exchange_access_ntlm_create_conf(ngx_conf_t *cf)
{
    ngx_http_exchange_access_ntlm_srv_conf_t  *ntcf;

    ntcf = ngx_pcalloc(cf->pool,
                       sizeof(ngx_http_exchange_access_ntlm_srv_conf_t));
    if (ntcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     ntcf->enable = 0;
     *     ntcf->keepalive = 0;
     *     ntcf->keepalive_off = 0;
     *     ntcf->warned = 0;
     *     ntcf->upstream = NULL;
     *     ntcf->original_init_peer = NULL;
     */

    ntcf->timeout = NGX_CONF_UNSET_MSEC;

    return ntcf;
}


static char *
ngx_http_exchange_access_ntlm(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_exchange_access_ntlm_srv_conf_t  *ntcf = conf;

    ngx_str_t              *value, s;
    ngx_msec_t              timeout;
#if (nginx_version >= 1029007)
    char                   *rv;
    void                  **srv_conf;
    ngx_str_t              *v;
    ngx_array_t             args, *saved;
    ngx_http_conf_ctx_t    *ctx;
#endif

    if (ntcf->enable) {
        return "is duplicate";
    }

    value = cf->args->elts;
    timeout = NGX_HTTP_EXCHANGE_ACCESS_NTLM_TIMEOUT;

    if (cf->args->nelts == 2) {

        if (ngx_strncmp(value[1].data, "timeout=", 8) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }

        s.data = value[1].data + 8;
        s.len = value[1].len - 8;

        timeout = ngx_parse_time(&s, 0);

        if (timeout == (ngx_msec_t) NGX_ERROR || timeout == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid timeout \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (ntcf->keepalive) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"exchange_access_ntlm\" cannot be used with "
                           "\"keepalive\" in the same upstream block: a "
                           "cached connection would carry one client's "
                           "NTLM authentication to another client");
        return NGX_CONF_ERROR;
    }

    ntcf->enable = 1;
    ntcf->timeout = timeout;
    ntcf->upstream = ngx_http_conf_get_module_srv_conf(cf,
                                                   ngx_http_upstream_module);

#if (nginx_version >= 1029007)

    /*
     * since 1.29.7 every upstream block caches connections unless told
     * "keepalive 0": tell it, as if the block said so
     */

    if (ntcf->keepalive_off || ngx_http_exchange_access_ka_cmd == NULL) {
        return NGX_CONF_OK;
    }

    if (ngx_array_init(&args, cf->temp_pool, 2, sizeof(ngx_str_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    v = ngx_array_push_n(&args, 2);
    if (v == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&v[0], "keepalive");
    ngx_str_set(&v[1], "0");

    ctx = cf->ctx;
    srv_conf = ctx->srv_conf;

    saved = cf->args;
    cf->args = &args;

    rv = ngx_http_exchange_access_ka_set(cf,
                          ngx_http_exchange_access_ka_cmd,
                          srv_conf[ngx_http_exchange_access_ka_module
                                   ->ctx_index]);
    cf->args = saved;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    ntcf->keepalive_off = 1;

#endif

    return NGX_CONF_OK;
}


/*
 * "keepalive" in a block with exchange_access_ntlm is refused, whichever
 * comes first; "keepalive 0" is what the block needs anyway.
 */

static char *
ngx_http_exchange_access_ntlm_keepalive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_str_t                                 *value;
    ngx_http_conf_ctx_t                       *ctx;
    ngx_http_exchange_access_ntlm_srv_conf_t  *ntcf;

    ctx = cf->ctx;
    ntcf = ctx->srv_conf[ngx_http_exchange_access_ntlm_module.ctx_index];
    value = cf->args->elts;

    if (cf->args->nelts == 2 && value[1].len == 1 && value[1].data[0] == '0')
    {
        if (ntcf->keepalive_off) {
            return NGX_CONF_OK;
        }

        ntcf->keepalive_off = 1;

    } else if (ntcf->enable) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"keepalive\" cannot be used with "
                           "\"exchange_access_ntlm\" in the same upstream "
                           "block: a cached connection would carry one "
                           "client's NTLM authentication to another client");
        return NGX_CONF_ERROR;

    } else {
        ntcf->keepalive = 1;
    }

    return ngx_http_exchange_access_ka_set(cf, cmd, conf);
}


static void
ngx_http_exchange_access_ntlm_unwrap(void *data)
{
    ngx_command_t  *cmd;

    cmd = ngx_http_exchange_access_ka_cmd;

    if (cmd && cmd->set == ngx_http_exchange_access_ntlm_keepalive) {
        cmd->set = ngx_http_exchange_access_ka_set;
    }
}


/*
 * While the http block is read, the keepalive module's "keepalive"
 * directive goes through ngx_http_exchange_access_ntlm_keepalive(); it is
 * given back when the block is read, or when reading it failed.
 */

static ngx_int_t
ngx_http_exchange_access_ntlm_preconf(ngx_conf_t *cf)
{
    ngx_uint_t           i;
    ngx_module_t        *m;
    ngx_command_t       *cmd;
    ngx_pool_cleanup_t  *cln;

    for (i = 0; cf->cycle->modules[i]; i++) {
        m = cf->cycle->modules[i];

        if (ngx_strcmp(m->name, "ngx_http_upstream_keepalive_module") != 0
            || m->commands == NULL)
        {
            continue;
        }

        for (cmd = m->commands; cmd->name.len; cmd++) {

            if (cmd->name.len != sizeof("keepalive") - 1
                || ngx_strncmp(cmd->name.data, "keepalive", cmd->name.len)
                   != 0)
            {
                continue;
            }

            if (cmd->set != ngx_http_exchange_access_ntlm_keepalive) {
                ngx_http_exchange_access_ka_set = cmd->set;
                cmd->set = ngx_http_exchange_access_ntlm_keepalive;
            }

            ngx_http_exchange_access_ka_module = m;
            ngx_http_exchange_access_ka_cmd = cmd;

            cln = ngx_pool_cleanup_add(cf->pool, 0);
            if (cln == NULL) {
                ngx_http_exchange_access_ntlm_unwrap(NULL);
                return NGX_ERROR;
            }

            cln->handler = ngx_http_exchange_access_ntlm_unwrap;

            return NGX_OK;
        }
    }

    return NGX_OK;
}


/* every upstream block with the directive gets its peers wrapped */

static ngx_int_t
ngx_http_exchange_access_ntlm_init(ngx_conf_t *cf)
{
    ngx_uint_t                                 i;
    ngx_http_upstream_srv_conf_t             **uscfp;
    ngx_http_upstream_main_conf_t             *umcf;
    ngx_http_exchange_access_ntlm_srv_conf_t  *ntcf;

    ngx_http_exchange_access_ntlm_unwrap(NULL);

    umcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_upstream_module);

    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {

        /* implicit upstreams, of proxy_pass with an address */

        if (uscfp[i]->srv_conf == NULL) {
            continue;
        }

        ntcf = ngx_http_conf_upstream_srv_conf(uscfp[i],
                                       ngx_http_exchange_access_ntlm_module);

        if (!ntcf->enable) {
            continue;
        }

        if (uscfp[i]->peer.init == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "exchange_access_ntlm: upstream \"%V\" has no "
                          "balancer", &uscfp[i]->host);
            return NGX_ERROR;
        }

        ntcf->original_init_peer = uscfp[i]->peer.init;
        uscfp[i]->peer.init = ngx_http_exchange_access_ntlm_init_peer;
    }

    return NGX_OK;
}
