
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_module.h"
#include "ngx_exa_state.h"


/*
 * The state file of a list: the last good list, written by the worker
 * that installed it, read when nginx reads its configuration.
 */


static int ngx_http_exchange_access_state_key(void *data, const u_char *key,
    size_t len);
static void ngx_http_exchange_access_state_error(
    ngx_http_exchange_access_list_t *list, const char *call, u_char *file,
    ngx_err_t err);


/*
 * The last good list, written after each refresh that changed it, is read
 * at start: it is used when the zone holds no table yet.  A state file
 * that is missing is not an error; one that cannot be read, is truncated
 * or is corrupted is logged and ignored as a whole: never a part of it.
 */

ngx_int_t
ngx_http_exchange_access_state_read(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list)
{
    int               rc;
    u_char           *buf, *p, *last;
    size_t            line;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_file_info_t   fi;
    ngx_array_t      *keys;

    fd = ngx_open_file(list->state_file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN,
                       0);

    if (fd == NGX_INVALID_FILE) {
        if (ngx_errno != NGX_ENOENT) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, ngx_errno,
                               ngx_open_file_n " \"%V\" failed, "
                               "state file ignored", &list->state_file);
        }

        return NGX_OK;
    }

    buf = NULL;
    keys = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > 256 * 1024 * 1024)
    {
        goto failed;
    }

    buf = ngx_alloc(ngx_file_size(&fi) + 1, cf->log);
    if (buf == NULL) {
        goto failed;
    }

    n = ngx_read_fd(fd, buf, ngx_file_size(&fi));

    if (n != ngx_file_size(&fi)) {
        goto failed;
    }

    keys = ngx_array_create(cf->pool, 64, sizeof(ngx_exa_str_t));
    if (keys == NULL) {
        goto failed;
    }

    rc = ngx_exa_state_parse(buf, n, ngx_http_exchange_access_state_key,
                             keys, &line);

    ngx_free(buf);
    ngx_close_file(fd);

    if (rc == NGX_EXA_STATE_OK
        && ngx_exa_table_tags(keys->elts, keys->nelts) > NGX_EXA_TAGS_MAX)
    {
        rc = NGX_EXA_STATE_BAD_LINE;
        line = 0;
    }

    if (rc == NGX_EXA_STATE_OK) {
        list->keys = keys;
        list->keys_from_state = 1;
        return NGX_OK;
    }

    /*
     * said now (nginx -t), and again in the error log when the zone is
     * set up (ngx_http_exchange_access_init_zone())
     */

    p = ngx_pnalloc(cf->pool, NGX_HTTP_EXCHANGE_ACCESS_ERR_LEN
                              + list->state_file.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (rc == NGX_EXA_STATE_TRUNCATED) {
        last = ngx_sprintf(p, "state file \"%V\" is truncated, ignored",
                           &list->state_file);

    } else if (rc == NGX_EXA_STATE_BAD_LINE) {
        last = ngx_sprintf(p, "state file \"%V\" is corrupted (line %uz is "
                           "not a name of the list), ignored",
                           &list->state_file, line);

    } else {
        last = ngx_sprintf(p, "state file \"%V\" is corrupted (%s), "
                           "ignored", &list->state_file,
                           ngx_exa_state_strerror(rc));
    }

    list->state_error.data = p;
    list->state_error.len = last - p;

    ngx_conf_log_error(NGX_LOG_WARN, cf, 0, "%V", &list->state_error);

    return NGX_OK;

failed:

    ngx_conf_log_error(NGX_LOG_WARN, cf, ngx_errno,
                       "state file \"%V\" cannot be read, ignored",
                       &list->state_file);

    if (buf) {
        ngx_free(buf);
    }

    ngx_close_file(fd);

    return NGX_OK;
}


/* a key of the state file, kept with the configuration */

static int
ngx_http_exchange_access_state_key(void *data, const u_char *key, size_t len)
{
    ngx_array_t  *keys = data;

    u_char         *k;
    ngx_exa_str_t  *s;

    k = ngx_pnalloc(keys->pool, len);
    s = ngx_array_push(keys);

    if (k == NULL || s == NULL) {
        return -1;
    }

    ngx_memcpy(k, key, len);
    s->data = k;
    s->len = len;

    return 0;
}


/* the last good list, one name a line, replaced with one rename */

void
ngx_http_exchange_access_state_write(ngx_http_exchange_access_list_t *list,
    ngx_array_t *keys, ngx_log_t *log)
{
    u_char     *buf, *p;
    size_t      size;
    ngx_fd_t    fd;
    ngx_err_t   err;
    u_char      tmp[NGX_MAX_PATH];

    size = ngx_exa_state_size(list->name.len, keys->elts, keys->nelts);

    buf = ngx_alloc(size, log);
    if (buf == NULL) {
        return;
    }

    p = ngx_exa_state_write(buf, list->name.data, list->name.len,
                            keys->elts, keys->nelts);

    if (list->state_file.len + 32 > sizeof(tmp)) {
        ngx_free(buf);
        return;
    }

    ngx_sprintf(tmp, "%V.%P.tmp%Z", &list->state_file, ngx_pid);

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;
        ngx_log_error(NGX_LOG_ERR, log, err,
                      ngx_open_file_n " \"%s\" failed (state_file of "
                      "exchange_access_list \"%V\")", tmp, &list->name);
        ngx_http_exchange_access_state_error(list, ngx_open_file_n, tmp, err);
        ngx_free(buf);
        return;
    }

    if (ngx_write_fd(fd, buf, p - buf) != p - buf) {
        err = ngx_errno;
        ngx_log_error(NGX_LOG_ERR, log, err,
                      ngx_write_fd_n " \"%s\" failed", tmp);
        ngx_http_exchange_access_state_error(list, ngx_write_fd_n, tmp, err);
        ngx_close_file(fd);
        ngx_delete_file(tmp);
        ngx_free(buf);
        return;
    }

    ngx_close_file(fd);
    ngx_free(buf);

    if (ngx_rename_file(tmp, list->state_file.data) == NGX_FILE_ERROR) {
        err = ngx_errno;
        ngx_log_error(NGX_LOG_ERR, log, err,
                      ngx_rename_file_n " \"%s\" to \"%V\" failed",
                      tmp, &list->state_file);
        ngx_http_exchange_access_state_error(list, ngx_rename_file_n, tmp,
                                             err);
        ngx_delete_file(tmp);
        return;
    }

    ngx_http_exchange_access_state_error(list, NULL, NULL, 0);
}


/* what the status page says of the state file: the last failure, or "" */

static void
ngx_http_exchange_access_state_error(ngx_http_exchange_access_list_t *list,
    const char *call, u_char *file, ngx_err_t err)
{
    u_char  *p, *last;
    u_char   buf[NGX_HTTP_EXCHANGE_ACCESS_ERR_LEN];

    p = buf;
    last = buf + sizeof(buf) - 1;

    if (call) {
        p = ngx_slprintf(p, last, "%s \"%s\" failed (%d: ", call, file, err);
        p = ngx_strerror(err, p, last - p);
        p = ngx_slprintf(p, last, ")");
    }

    *p = '\0';

    ngx_shmtx_lock(&list->shpool->mutex);
    ngx_memcpy(list->sh->state_error, buf, p - buf + 1);
    ngx_shmtx_unlock(&list->shpool->mutex);
}
