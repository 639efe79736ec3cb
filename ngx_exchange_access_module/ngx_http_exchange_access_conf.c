
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_module.h"


/*
 * What the list block and the sources share to read their directives as
 * nginx reads its own.
 */


/* the argument counts of ngx_conf_file.c, which keeps its table static */

static ngx_uint_t  ngx_http_exchange_access_argument_number[] = {
    NGX_CONF_NOARGS,
    NGX_CONF_TAKE1,
    NGX_CONF_TAKE2,
    NGX_CONF_TAKE3,
    NGX_CONF_TAKE4,
    NGX_CONF_TAKE5,
    NGX_CONF_TAKE6,
    NGX_CONF_TAKE7
};


/*
 * What ngx_conf_handler() does for a directive it found: the argument
 * count, then the handler, with nginx's own messages.
 */

char *
ngx_http_exchange_access_conf_command(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char        *rv;
    ngx_uint_t   n;

    n = cf->args->nelts;

    if (!(cmd->type & NGX_CONF_ANY)
        && ((cmd->type & NGX_CONF_FLAG) ? n != 2
            : (cmd->type & NGX_CONF_1MORE) ? n < 2
            : (cmd->type & NGX_CONF_2MORE) ? n < 3
            : n > NGX_CONF_MAX_ARGS
              || !(cmd->type
                   & ngx_http_exchange_access_argument_number[n - 1])))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of arguments in \"%V\" directive",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    rv = cmd->set(cf, cmd, conf);

    if (rv == NGX_CONF_OK || rv == NGX_CONF_ERROR) {
        return rv;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" directive %s",
                       &cmd->name, rv);

    return NGX_CONF_ERROR;
}


/*
 * A post handler for ngx_conf_set_str_slot: a relative path is taken from
 * the configuration directory or from the prefix.
 */

char *
ngx_http_exchange_access_conf_full_name(ngx_conf_t *cf, void *post,
    void *data)
{
    ngx_http_exchange_access_path_post_t  *pp = post;

    ngx_str_t  *name = data;

    if (ngx_conf_full_name(cf->cycle, name, pp->conf_prefix) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
