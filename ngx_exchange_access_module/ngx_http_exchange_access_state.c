
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_module.h"


/*
 * The state file of a list: the last good list, written by the worker
 * that installed it, read when nginx reads its configuration.
 */


static ngx_int_t ngx_http_exchange_access_state_parse(u_char *p, size_t size,
    ngx_pool_t *pool, ngx_array_t *keys);


/*
 * The last good list, written after each refresh that changed it, is read
 * at start: it is used when the zone holds no table yet.  A state file
 * that is missing is not an error; one that cannot be read is logged and
 * ignored.
 */

ngx_int_t
ngx_http_exchange_access_state_read(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list)
{
    u_char           *buf;
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

    if (ngx_http_exchange_access_state_parse(buf, n, cf->pool, keys)
        != NGX_OK)
    {
        goto failed;
    }

    list->keys = keys;
    list->keys_from_state = 1;

    ngx_free(buf);
    ngx_close_file(fd);

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


/* the last good list, one name a line, replaced with one rename */

void
ngx_http_exchange_access_state_write(ngx_http_exchange_access_list_t *list,
    ngx_array_t *keys, ngx_log_t *log)
{
    u_char         *buf, *p;
    size_t          size;
    ngx_fd_t        fd;
    ngx_uint_t      i;
    ngx_exa_str_t  *k;
    u_char          tmp[NGX_MAX_PATH];

    k = keys->elts;
    size = sizeof("# exchange_access_list  state, one name a line\n")
           + list->name.len;

    for (i = 0; i < keys->nelts; i++) {
        size += k[i].len + 1;
    }

    buf = ngx_alloc(size, log);
    if (buf == NULL) {
        return;
    }

    p = ngx_sprintf(buf, "# exchange_access_list %V state, one name a line\n",
                    &list->name);

    for (i = 0; i < keys->nelts; i++) {
        p = ngx_cpymem(p, k[i].data, k[i].len);
        *p++ = '\n';
    }

    if (list->state_file.len + 32 > sizeof(tmp)) {
        ngx_free(buf);
        return;
    }

    ngx_sprintf(tmp, "%V.%P.tmp%Z", &list->state_file, ngx_pid);

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      ngx_open_file_n " \"%s\" failed (state_file of "
                      "exchange_access_list \"%V\")", tmp, &list->name);
        ngx_free(buf);
        return;
    }

    if (ngx_write_fd(fd, buf, p - buf) != p - buf) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      ngx_write_fd_n " \"%s\" failed", tmp);
        ngx_close_file(fd);
        ngx_delete_file(tmp);
        ngx_free(buf);
        return;
    }

    ngx_close_file(fd);
    ngx_free(buf);

    if (ngx_rename_file(tmp, list->state_file.data) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      ngx_rename_file_n " \"%s\" to \"%V\" failed",
                      tmp, &list->state_file);
        ngx_delete_file(tmp);
    }
}


/* one name a line; blank lines and lines starting with "#" are skipped */

static ngx_int_t
ngx_http_exchange_access_state_parse(u_char *p, size_t size, ngx_pool_t *pool,
    ngx_array_t *keys)
{
    u_char         *last, *eol, *k;
    size_t          klen;
    ngx_exa_str_t  *key;
    u_char          buf[NGX_EXA_KEY_MAX];

    last = p + size;

    for ( /* void */ ; p < last; p = eol + 1) {

        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        if (p == eol || *p == '#') {
            continue;
        }

        if (ngx_exa_name_entry(p, eol - p, buf, &klen) != NGX_EXA_NAME_OK)
        {
            return NGX_ERROR;
        }

        k = ngx_pnalloc(pool, klen);
        key = ngx_array_push(keys);

        if (k == NULL || key == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(k, buf, klen);
        key->data = k;
        key->len = klen;
    }

    return NGX_OK;
}
