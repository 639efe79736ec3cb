
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_module.h"


/*
 * The file source: "file path;", one name a line.  The file is read when
 * nginx reads its configuration, and again by a refresh when its mtime
 * changed.
 */


#define NGX_HTTP_EXCHANGE_ACCESS_FILE_MAX   (256 * 1024 * 1024)

/* microseconds of a step of the table's build */
#define NGX_HTTP_EXCHANGE_ACCESS_FILE_STEP  1000


typedef struct {
    ngx_str_t                         path;
} ngx_http_exchange_access_file_conf_t;


/* a refresh whose new table is being built */

typedef struct {
    ngx_http_exchange_access_list_t     *list;
    ngx_pool_t                          *pool;
    ngx_array_t                         *keys;
    time_t                               mtime;
    ngx_event_t                          step;
    ngx_http_exchange_access_install_t   install;
} ngx_http_exchange_access_file_ctx_t;


static void *ngx_http_exchange_access_file_create_conf(ngx_conf_t *cf);
static char *ngx_http_exchange_access_file_init_conf(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list);
static void ngx_http_exchange_access_file_refresh(
    ngx_http_exchange_access_list_t *list, ngx_log_t *log);
static void ngx_http_exchange_access_file_install(ngx_event_t *ev);
static time_t ngx_http_exchange_access_file_lease(
    ngx_http_exchange_access_list_t *list);
static ngx_int_t ngx_http_exchange_access_list_read(
    ngx_http_exchange_access_list_t *list, ngx_str_t *name, ngx_pool_t *pool,
    ngx_array_t *keys, time_t *mtime, ngx_log_t *log);
static ngx_int_t ngx_http_exchange_access_list_parse(
    ngx_http_exchange_access_list_t *list, ngx_str_t *name, u_char *p,
    size_t size, ngx_pool_t *pool, ngx_array_t *keys, ngx_log_t *log);


static ngx_http_exchange_access_path_post_t  ngx_http_exchange_access_file_post
    = { ngx_http_exchange_access_conf_full_name, 1 };


static ngx_command_t  ngx_http_exchange_access_file_commands[] = {

    { ngx_string("file"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_exchange_access_file_conf_t, path),
      &ngx_http_exchange_access_file_post },

      ngx_null_command
};


ngx_http_exchange_access_source_t  ngx_http_exchange_access_file_source = {
    ngx_string("file"),
    ngx_http_exchange_access_file_commands,
    ngx_http_exchange_access_file_create_conf,
    ngx_http_exchange_access_file_init_conf,
    ngx_http_exchange_access_file_refresh,
    ngx_http_exchange_access_file_lease,
    NULL,
    0
};


static void *
ngx_http_exchange_access_file_create_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_exchange_access_file_conf_t));
}


/* the file is read now: a broken file fails nginx -t, and the reload */

static char *
ngx_http_exchange_access_file_init_conf(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list)
{
    ngx_http_exchange_access_file_conf_t  *fcf = list->source_conf;

    list->keys = ngx_array_create(cf->pool, 64, sizeof(ngx_exa_str_t));
    if (list->keys == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_exchange_access_list_read(list, &fcf->path, cf->pool,
                                           list->keys, &list->version,
                                           cf->log)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    list->keys_from_state = 0;

    return NGX_CONF_OK;
}


static time_t
ngx_http_exchange_access_file_lease(ngx_http_exchange_access_list_t *list)
{
    return 2 * list->refresh + 60;
}


/*
 * The file source: read the file again when it changed, and install it a
 * step at a time, as a refresh from a directory does.
 */

static void
ngx_http_exchange_access_file_refresh(ngx_http_exchange_access_list_t *list,
    ngx_log_t *log)
{
    time_t                                 mtime;
    ngx_int_t                              rc;
    ngx_pool_t                            *pool;
    ngx_array_t                           *keys;
    ngx_file_info_t                        fi;
    ngx_http_exchange_access_file_ctx_t   *ctx;
    ngx_http_exchange_access_file_conf_t  *fcf;

    fcf = list->source_conf;

    if (ngx_file_info(fcf->path.data, &fi) == NGX_FILE_ERROR) {
        ngx_http_exchange_access_list_done(list, NULL,
                                           "the list file cannot be read",
                                           log);
        return;
    }

    if (ngx_file_mtime(&fi) == list->sh->version) {
        ngx_http_exchange_access_list_done(list, NULL, NULL, log);
        return;
    }

    pool = ngx_create_pool(16384, log);
    if (pool == NULL) {
        ngx_http_exchange_access_list_done(list, NULL, "out of memory", log);
        return;
    }

    ctx = ngx_pcalloc(pool, sizeof(ngx_http_exchange_access_file_ctx_t));
    keys = ngx_array_create(pool, 64, sizeof(ngx_exa_str_t));

    if (ctx == NULL || keys == NULL) {
        ngx_http_exchange_access_list_done(list, NULL, "out of memory", log);
        ngx_destroy_pool(pool);
        return;
    }

    if (ngx_http_exchange_access_list_read(list, &fcf->path, pool, keys,
                                           &mtime, log)
        != NGX_OK)
    {
        ngx_http_exchange_access_list_done(list, NULL,
                                           "the list file is not valid",
                                           log);
        ngx_destroy_pool(pool);
        return;
    }

    ctx->list = list;
    ctx->pool = pool;
    ctx->keys = keys;
    ctx->mtime = mtime;
    ctx->step.handler = ngx_http_exchange_access_file_install;
    ctx->step.data = ctx;
    ctx->step.log = log;

    rc = ngx_http_exchange_access_install_start(&ctx->install, list, keys, 0);

    if (rc != NGX_OK) {
        ngx_http_exchange_access_list_done(list, NULL,
                   ngx_http_exchange_access_list_installed(list, keys, rc, 0,
                                                           log),
                   log);
        ngx_destroy_pool(pool);
        return;
    }

    list->running = ctx;
    list->installing = &ctx->install;

    /* the build's first step in the next turn of the event loop */

    ngx_http_exchange_access_post_next(&ctx->step);
}


/* a step of the new table's build; the pool and the keys go at the end */

static void
ngx_http_exchange_access_file_install(ngx_event_t *ev)
{
    ngx_int_t                             rc;
    const char                           *error;
    ngx_http_exchange_access_list_t      *list;
    ngx_http_exchange_access_file_ctx_t  *ctx;

    ctx = ev->data;
    list = ctx->list;

    ngx_http_exchange_access_step_start(list);

    rc = ngx_http_exchange_access_install_step(&ctx->install,
                                         NGX_HTTP_EXCHANGE_ACCESS_FILE_STEP,
                                         ev->log);

    if (rc == NGX_AGAIN) {
        ngx_http_exchange_access_step_end(list);
        ngx_http_exchange_access_post_next(ev);
        return;
    }

    error = ngx_http_exchange_access_list_installed(list, ctx->keys, rc,
                                                    ctx->install.generation,
                                                    ev->log);

    /* a list that could not be installed is read again next time */

    if (error == NULL) {
        list->sh->version = ctx->mtime;
    }

    list->running = NULL;

    ngx_http_exchange_access_list_done(list, NULL, error, ev->log);

    ngx_destroy_pool(ctx->pool);
}


/* reads a list file into keys; errors are logged at EMERG */

static ngx_int_t
ngx_http_exchange_access_list_read(ngx_http_exchange_access_list_t *list,
    ngx_str_t *name, ngx_pool_t *pool, ngx_array_t *keys, time_t *mtime,
    ngx_log_t *log)
{
    u_char           *buf;
    size_t            size;
    ssize_t           n;
    ngx_int_t         rc;
    ngx_file_t        file;
    ngx_file_info_t   fi;

    ngx_memzero(&file, sizeof(ngx_file_t));

    file.name = *name;
    file.log = log;

    file.fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (file.fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      ngx_open_file_n " \"%V\" failed", name);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;
    buf = NULL;

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      ngx_fd_info_n " \"%V\" failed", name);
        goto done;
    }

    size = (size_t) ngx_file_size(&fi);

    if (!ngx_is_file(&fi) || size > NGX_HTTP_EXCHANGE_ACCESS_FILE_MAX) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "\"%V\" is not a regular file of at most %uzM", name,
                      (size_t) NGX_HTTP_EXCHANGE_ACCESS_FILE_MAX / 1024 / 1024);
        goto done;
    }

    *mtime = ngx_file_mtime(&fi);

    buf = ngx_alloc(size + 1, log);
    if (buf == NULL) {
        goto done;
    }

    n = ngx_read_file(&file, buf, size, 0);

    if (n == NGX_ERROR) {
        goto done;
    }

    if ((size_t) n != size) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      ngx_read_file_n " \"%V\" returned only %z bytes "
                      "instead of %uz", name, n, size);
        goto done;
    }

    rc = ngx_http_exchange_access_list_parse(list, name, buf, size, pool,
                                             keys, log);

done:

    if (buf) {
        ngx_free(buf);
    }

    if (ngx_close_file(file.fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", name);
    }

    return rc;
}


/*
 * One name a line: "user", "DOMAIN\user" (DOMAIN a NetBIOS name) or
 * "user@suffix"; blank lines and lines starting with "#" are skipped.
 * Names are normalised as a credential's; a NetBIOS domain is kept as a
 * lower-case tag of the key, "domain\user".
 */

static ngx_int_t
ngx_http_exchange_access_list_parse(ngx_http_exchange_access_list_t *list,
    ngx_str_t *name, u_char *p, size_t size, ngx_pool_t *pool,
    ngx_array_t *keys, ngx_log_t *log)
{
    int             rc;
    u_char         *last, *eol, *start, *end, *k;
    size_t          klen;
    ngx_uint_t      line;
    ngx_exa_str_t  *key;
    u_char          buf[NGX_EXA_KEY_MAX];

    last = p + size;
    line = 0;

    while (p < last) {
        line++;

        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        start = p;
        end = eol;
        p = eol + 1;

        while (start < end && (*start == ' ' || *start == '\t')) {
            start++;
        }

        while (end > start
               && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        {
            end--;
        }

        if (start == end || *start == '#') {
            continue;
        }

        rc = ngx_exa_name_entry(start, end - start, buf, &klen);

        if (rc != NGX_EXA_NAME_OK) {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "%s in line %ui of \"%V\" "
                          "(exchange_access_list \"%V\")",
                          ngx_exa_name_strerror(rc), line, name,
                          &list->name);
            return NGX_ERROR;
        }

        k = ngx_pnalloc(pool, klen);
        if (k == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(k, buf, klen);

        key = ngx_array_push(keys);
        if (key == NULL) {
            return NGX_ERROR;
        }

        key->data = k;
        key->len = klen;
    }

    if (ngx_exa_table_tags(keys->elts, keys->nelts) > NGX_EXA_TAGS_MAX) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "\"%V\" names more than %d NetBIOS domains "
                      "(exchange_access_list \"%V\")", name,
                      NGX_EXA_TAGS_MAX, &list->name);
        return NGX_ERROR;
    }

    return NGX_OK;
}
