
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_module.h"


/* a retired table is freed once no lookup can still be reading it */
#define NGX_HTTP_EXCHANGE_ACCESS_GRACE      10

#define NGX_HTTP_EXCHANGE_ACCESS_FILE_MAX   (256 * 1024 * 1024)

#define ngx_http_exchange_access_gen_table(gen)                              \
    ((ngx_exa_table_t *) ((u_char *) (gen)                                   \
        + ngx_align(sizeof(ngx_http_exchange_access_gen_t), 8)))


static char *ngx_http_exchange_access_list_param(ngx_conf_t *cf,
    ngx_command_t *dummy, void *conf);
static ngx_int_t ngx_http_exchange_access_list_read_file(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list);
static ngx_int_t ngx_http_exchange_access_list_read(
    ngx_http_exchange_access_list_t *list, ngx_str_t *name, ngx_pool_t *pool,
    ngx_array_t *keys, time_t *mtime, ngx_log_t *log);
static ngx_int_t ngx_http_exchange_access_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_exchange_access_list_reap_locked(
    ngx_http_exchange_access_list_t *list);
static void ngx_http_exchange_access_list_timer(ngx_event_t *ev);
static void ngx_http_exchange_access_list_file(
    ngx_http_exchange_access_list_t *list, ngx_log_t *log);
static void ngx_http_exchange_access_write_state(
    ngx_http_exchange_access_list_t *list, ngx_array_t *keys, ngx_log_t *log);
static void ngx_http_exchange_access_state_error(
    ngx_http_exchange_access_list_t *list, const char *call, u_char *file,
    ngx_err_t err);


ngx_http_exchange_access_list_t *
ngx_http_exchange_access_list_get(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_uint_t                             i;
    ngx_http_exchange_access_list_t       *list, **lists, **lp;
    ngx_http_exchange_access_main_conf_t  *eamcf;

    eamcf = ngx_http_conf_get_module_main_conf(cf,
                                            ngx_http_exchange_access_module);

    lists = eamcf->lists.elts;

    for (i = 0; i < eamcf->lists.nelts; i++) {
        if (lists[i]->name.len == name->len
            && ngx_strncmp(lists[i]->name.data, name->data, name->len) == 0)
        {
            return lists[i];
        }
    }

    list = ngx_pcalloc(cf->pool, sizeof(ngx_http_exchange_access_list_t));
    if (list == NULL) {
        return NULL;
    }

    lp = ngx_array_push(&eamcf->lists);
    if (lp == NULL) {
        return NULL;
    }

    *lp = list;

    list->name = *name;
    list->conf_file = cf->conf_file->file.name.data;
    list->conf_line = cf->conf_file->line;

    return list;
}


/* exchange_access_list name { zone 10m; file /path; } */

char *
ngx_http_exchange_access_list_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char                             *rv;
    ngx_str_t                        *value;
    ngx_conf_t                        save;
    ngx_shm_zone_t                   *shm_zone;
    ngx_http_exchange_access_list_t  *list;

    value = cf->args->elts;

    list = ngx_http_exchange_access_list_get(cf, &value[1]);
    if (list == NULL) {
        return NGX_CONF_ERROR;
    }

    if (list->defined) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate exchange_access_list \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    list->defined = 1;

    save = *cf;
    cf->handler = ngx_http_exchange_access_list_param;
    cf->handler_conf = (char *) list;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (list->size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "exchange_access_list \"%V\" has no \"zone\"",
                           &list->name);
        return NGX_CONF_ERROR;
    }

    switch (list->source) {

    case NGX_HTTP_EXCHANGE_ACCESS_SRC_FILE:
        if (ngx_http_exchange_access_list_read_file(cf, list) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        list->keys_source = NGX_HTTP_EXCHANGE_ACCESS_SRC_FILE;
        break;

    case NGX_HTTP_EXCHANGE_ACCESS_SRC_LDAP:
        break;

    default:
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "exchange_access_list \"%V\" has no source: "
                           "give \"file\" or \"ldap_url\"", &list->name);
        return NGX_CONF_ERROR;
    }

    rv = ngx_http_exchange_access_ldap_check(cf, list);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    shm_zone = ngx_shared_memory_add(cf, &list->name, list->size,
                                     &ngx_http_exchange_access_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared memory zone \"%V\" is already used",
                           &list->name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_exchange_access_init_zone;
    shm_zone->data = list;
    list->shm_zone = shm_zone;

    return NGX_CONF_OK;
}


static char *
ngx_http_exchange_access_list_param(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf)
{
    ngx_http_exchange_access_list_t  *list;

    char       *rv;
    ssize_t     size;
    ngx_str_t  *value;

    list = (ngx_http_exchange_access_list_t *) cf->handler_conf;
    value = cf->args->elts;

    rv = ngx_http_exchange_access_ldap_param(cf, list);

    if (rv != NGX_HTTP_EXCHANGE_ACCESS_NOT_MINE) {
        return rv;
    }

    if (cf->args->nelts == 2
        && value[0].len == 4 && ngx_strncmp(value[0].data, "zone", 4) == 0)
    {
        if (list->size) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"zone\" is duplicate");
            return NGX_CONF_ERROR;
        }

        size = ngx_parse_size(&value[1]);

        if (size == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid zone size \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }

        if (size < (ssize_t) (8 * ngx_pagesize)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "zone of exchange_access_list \"%V\" is too "
                               "small: %V, at least %uzk",
                               &list->name, &value[1],
                               8 * ngx_pagesize / 1024);
            return NGX_CONF_ERROR;
        }

        list->size = size;

        return NGX_CONF_OK;
    }

    if (cf->args->nelts == 2
        && value[0].len == 4 && ngx_strncmp(value[0].data, "file", 4) == 0)
    {
        if (list->source != NGX_HTTP_EXCHANGE_ACCESS_SRC_NONE) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "exchange_access_list \"%V\" has more than "
                               "one source", &list->name);
            return NGX_CONF_ERROR;
        }

        list->file = value[1];

        if (ngx_conf_full_name(cf->cycle, &list->file, 1) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        list->source = NGX_HTTP_EXCHANGE_ACCESS_SRC_FILE;

        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown or malformed \"%V\" in exchange_access_list",
                       &value[0]);

    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_exchange_access_list_read_file(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list)
{
    list->keys = ngx_array_create(cf->pool, 64, sizeof(ngx_exa_str_t));
    if (list->keys == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_exchange_access_list_read(list, &list->file, cf->pool,
                                              list->keys, &list->file_mtime,
                                              cf->log);
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
 * One name a line; blank lines and lines starting with "#" are skipped.
 * Every name goes through the same normalisation as a credential's.
 */

ngx_int_t
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

        rc = ngx_exa_name_key(NULL, NULL, 0, start, end - start, buf, &klen);

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

    return NGX_OK;
}


static ngx_int_t
ngx_http_exchange_access_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_exchange_access_list_t  *olist = data;

    size_t                            len;
    ngx_int_t                         rc;
    ngx_http_exchange_access_list_t  *list;

    list = shm_zone->data;

    if (olist) {
        /* a reload: keep the zone, and the table in it */
        list->sh = olist->sh;
        list->shpool = olist->shpool;

    } else {
        list->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

        if (shm_zone->shm.exists) {
            list->sh = list->shpool->data;
            return NGX_OK;
        }

        list->sh = ngx_slab_calloc(list->shpool,
                                   sizeof(ngx_http_exchange_access_shctx_t));
        if (list->sh == NULL) {
            return NGX_ERROR;
        }

        list->shpool->data = list->sh;

        len = sizeof(" in exchange_access zone \"\"") + shm_zone->shm.name.len;

        list->shpool->log_ctx = ngx_slab_alloc(list->shpool, len);
        if (list->shpool->log_ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(list->shpool->log_ctx, " in exchange_access zone \"%V\"%Z",
                    &shm_zone->shm.name);

        /* running out of room is reported by the module itself */
        list->shpool->log_nomem = 0;
    }

    if (list->keys == NULL) {
        return NGX_OK;
    }

    /* a state file only stands in for a list the zone does not have */

    if (list->keys_source == NGX_HTTP_EXCHANGE_ACCESS_SRC_STATE
        && list->sh->table != NULL)
    {
        return NGX_OK;
    }

    if (list->source == NGX_HTTP_EXCHANGE_ACCESS_SRC_FILE) {
        list->sh->file_mtime = list->file_mtime;
    }

    rc = ngx_http_exchange_access_list_install(list, list->keys,
                                               list->keys_source,
                                               shm_zone->shm.log);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "exchange_access_list \"%V\": %ui names do not fit "
                      "in its zone of %uz bytes, make \"zone\" larger",
                      &list->name, list->keys->nelts, list->size);
        return NGX_ERROR;
    }

    return rc;
}


/*
 * Builds a new generation of the table aside in the zone and publishes it
 * with one pointer store.  Returns NGX_OK (installed or unchanged),
 * NGX_DECLINED (does not fit: the current table stays) or NGX_ERROR.
 */

ngx_int_t
ngx_http_exchange_access_list_install(ngx_http_exchange_access_list_t *list,
    ngx_array_t *keys, ngx_uint_t source, ngx_log_t *log)
{
    size_t                             size, hdr, keybytes;
    ngx_uint_t                         i;
    ngx_exa_str_t                     *k;
    ngx_exa_table_t                   *t;
    ngx_slab_pool_t                   *shpool;
    ngx_http_exchange_access_gen_t    *gen, *old;
    ngx_http_exchange_access_shctx_t  *sh;

    shpool = list->shpool;
    sh = list->sh;
    k = keys->elts;

    keybytes = 0;

    for (i = 0; i < keys->nelts; i++) {
        keybytes += k[i].len;
    }

    hdr = ngx_align(sizeof(ngx_http_exchange_access_gen_t), 8);
    size = ngx_exa_table_size(keys->nelts, keybytes);

    if (size == 0) {
        return NGX_DECLINED;
    }

    ngx_shmtx_lock(&shpool->mutex);

    ngx_http_exchange_access_list_reap_locked(list);

    gen = ngx_slab_alloc_locked(shpool, hdr + size);

    ngx_shmtx_unlock(&shpool->mutex);

    if (gen == NULL) {
        return NGX_DECLINED;
    }

    t = ngx_http_exchange_access_gen_table(gen);

    if (ngx_exa_table_build(t, size, k, keys->nelts) == NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "exchange_access_list \"%V\": table build failed",
                      &list->name);
        ngx_slab_free(shpool, gen);
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&shpool->mutex);

    sh->loaded = ngx_time();

    if (sh->table && ngx_exa_table_equal(sh->table, t)) {
        if (source != NGX_HTTP_EXCHANGE_ACCESS_SRC_STATE) {
            sh->source = source;
        }

        ngx_slab_free_locked(shpool, gen);
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_OK;
    }

    gen->next = NULL;
    gen->retired = 0;
    gen->generation = ++sh->generation;

    old = sh->current;

    /* the table is complete before any reader can see its address */

    ngx_memory_barrier();

    sh->table = t;
    sh->current = gen;
    sh->nelts = t->nelts;
    sh->source = source;

    if (old) {
        old->retired = ngx_time();
        old->next = sh->retired;
        sh->retired = old;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "exchange_access_list \"%V\": %uD names loaded%s, "
                  "generation %ui", &list->name, t->nelts,
                  source == NGX_HTTP_EXCHANGE_ACCESS_SRC_STATE
                  ? " from the state file" : "",
                  gen->generation);

    return NGX_OK;
}


static void
ngx_http_exchange_access_list_reap_locked(
    ngx_http_exchange_access_list_t *list)
{
    time_t                           now;
    ngx_http_exchange_access_gen_t  *gen, **prev;

    now = ngx_time();
    prev = &list->sh->retired;

    for (gen = *prev; gen; gen = *prev) {
        if (now - gen->retired >= NGX_HTTP_EXCHANGE_ACCESS_GRACE
            || now < gen->retired)
        {
            *prev = gen->next;
            ngx_slab_free_locked(list->shpool, gen);
            continue;
        }

        prev = &gen->next;
    }
}


ngx_int_t
ngx_http_exchange_access_list_lookup(ngx_http_exchange_access_list_t *list,
    u_char *key, size_t len)
{
    ngx_exa_table_t  *t;

    t = list->sh->table;

    if (t == NULL) {
        return NGX_ERROR;
    }

    return ngx_exa_table_lookup(t, key, len) ? NGX_OK : NGX_DECLINED;
}


/* every list named by exchange_access_require must be defined */

ngx_int_t
ngx_http_exchange_access_list_check(ngx_conf_t *cf)
{
    ngx_uint_t                             i;
    ngx_http_exchange_access_list_t      **lists;
    ngx_http_exchange_access_main_conf_t  *eamcf;

    eamcf = ngx_http_conf_get_module_main_conf(cf,
                                            ngx_http_exchange_access_module);

    lists = eamcf->lists.elts;

    for (i = 0; i < eamcf->lists.nelts; i++) {
        if (!lists[i]->defined) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "exchange_access_list \"%V\" is not defined, "
                          "but is used in %s:%ui",
                          &lists[i]->name, lists[i]->conf_file,
                          lists[i]->conf_line);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * Refreshes run in the workers: every worker looks once a second whether
 * a refresh is due and nobody holds the lease; the one that takes the
 * lease refreshes.  A worker that dies with the lease loses it when it
 * expires.
 */

ngx_int_t
ngx_http_exchange_access_list_init_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                             i;
    ngx_http_exchange_access_list_t      **lists;
    ngx_http_exchange_access_main_conf_t  *eamcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    eamcf = ngx_http_cycle_get_module_main_conf(cycle,
                                            ngx_http_exchange_access_module);
    if (eamcf == NULL) {
        return NGX_OK;
    }

    lists = eamcf->lists.elts;

    for (i = 0; i < eamcf->lists.nelts; i++) {
        if (lists[i]->sh == NULL) {
            continue;
        }

        lists[i]->timer.handler = ngx_http_exchange_access_list_timer;
        lists[i]->timer.data = lists[i];
        lists[i]->timer.log = cycle->log;
        lists[i]->timer.cancelable = 1;

        ngx_add_timer(&lists[i]->timer, 100 + ngx_random() % 400);
    }

    return NGX_OK;
}


static void
ngx_http_exchange_access_list_timer(ngx_event_t *ev)
{
    time_t                             now;
    ngx_uint_t                         take;
    ngx_http_exchange_access_list_t   *list;
    ngx_http_exchange_access_shctx_t  *sh;

    list = ev->data;
    sh = list->sh;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_add_timer(ev, 1000);

    if (list->running) {
        return;
    }

    now = ngx_time();
    take = 0;

    ngx_shmtx_lock(&list->shpool->mutex);

    ngx_http_exchange_access_list_reap_locked(list);

    if (now >= sh->next_refresh
        && (sh->lease_pid == 0 || now >= sh->lease_until))
    {
        take = 1;
        sh->lease_pid = ngx_pid;
        sh->lease_until = now + 2 * list->refresh + 60;
        sh->last_attempt = now;
        sh->attempts++;

        if (list->ldap) {
            sh->lease_until = now + 2 * (list->ldap->timeout / 1000 + 1);
        }
    }

    ngx_shmtx_unlock(&list->shpool->mutex);

    if (!take) {
        return;
    }

    list->started = ngx_current_msec;

    if (list->source == NGX_HTTP_EXCHANGE_ACCESS_SRC_LDAP) {
        ngx_http_exchange_access_ldap_refresh(list, ev->log);
        return;
    }

    ngx_http_exchange_access_list_file(list, ev->log);
}


/* the file source: read the file again when it changed */

static void
ngx_http_exchange_access_list_file(ngx_http_exchange_access_list_t *list,
    ngx_log_t *log)
{
    time_t            mtime;
    ngx_pool_t       *pool;
    ngx_array_t      *keys;
    ngx_file_info_t   fi;

    if (ngx_file_info(list->file.data, &fi) == NGX_FILE_ERROR) {
        ngx_http_exchange_access_list_done(list, NULL,
                                           "the list file cannot be read",
                                           log);
        return;
    }

    if (ngx_file_mtime(&fi) == list->sh->file_mtime) {
        ngx_http_exchange_access_list_done(list, NULL, NULL, log);
        return;
    }

    pool = ngx_create_pool(16384, log);
    if (pool == NULL) {
        ngx_http_exchange_access_list_done(list, NULL, "out of memory", log);
        return;
    }

    keys = ngx_array_create(pool, 64, sizeof(ngx_exa_str_t));

    if (keys == NULL
        || ngx_http_exchange_access_list_read(list, &list->file, pool, keys,
                                              &mtime, log)
           != NGX_OK)
    {
        ngx_http_exchange_access_list_done(list, NULL,
                                           "the list file is not valid",
                                           log);
        ngx_destroy_pool(pool);
        return;
    }

    ngx_http_exchange_access_list_done(list, keys, NULL, log);

    list->sh->file_mtime = mtime;

    ngx_destroy_pool(pool);
}


/*
 * The end of a refresh: the lease goes, the result is installed (or the
 * last good table stays), and the error log hears of changes of state
 * only: the first failure, and the recovery.
 */

void
ngx_http_exchange_access_list_done(ngx_http_exchange_access_list_t *list,
    ngx_array_t *keys, const char *error, ngx_log_t *log)
{
    time_t                             now, next, retry, age;
    ngx_int_t                          rc;
    ngx_uint_t                         was_failing, generation, stale;
    ngx_http_exchange_access_shctx_t  *sh;

    sh = list->sh;
    now = ngx_time();

    if (keys) {
        generation = sh->generation;

        rc = ngx_http_exchange_access_list_install(list, keys, list->source,
                                                   log);

        if (rc == NGX_DECLINED) {
            error = "the new list does not fit in the zone, "
                    "make \"zone\" larger";

        } else if (rc != NGX_OK) {
            error = "the new list could not be built";

        } else if (list->state_file.len
                   && (generation != sh->generation
                       || sh->last_success == 0
                       || sh->state_error[0]))
        {
            ngx_http_exchange_access_write_state(list, keys, log);
        }
    }

    /* the next refresh: the interval with 10% of jitter, sooner on error */

    next = list->refresh + (time_t) (ngx_random() % (list->refresh / 10 + 1));
    retry = ngx_max(1, ngx_min(60, list->refresh / 4));

    ngx_shmtx_lock(&list->shpool->mutex);

    was_failing = sh->failing;
    stale = 0;
    age = 0;

    sh->lease_pid = 0;
    sh->lease_until = 0;
    sh->last_duration = ngx_current_msec - list->started;

    if (error) {
        sh->failing = 1;
        sh->failures++;
        sh->next_refresh = now + retry;
        ngx_cpystrn(sh->error, (u_char *) error, sizeof(sh->error));

        /* stale: no refresh has worked for three intervals */

        age = now - sh->last_success;

        if (sh->last_success && !sh->stale && age > 3 * list->refresh) {
            sh->stale = 1;
            stale = 1;
        }

    } else {
        sh->failing = 0;
        sh->stale = 0;
        sh->next_refresh = now + next;

        if (keys || list->source == NGX_HTTP_EXCHANGE_ACCESS_SRC_FILE) {
            sh->last_success = now;
        }
    }

    ngx_shmtx_unlock(&list->shpool->mutex);

    if (error && !was_failing) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "exchange_access_list \"%V\": refresh failed, "
                      "%s: %s", &list->name,
                      sh->table ? "the last good list stays"
                                : "no list yet, restricted requests from "
                                  "outside are denied",
                      error);

    } else if (stale) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "exchange_access_list \"%V\": stale, no refresh has "
                      "worked for %T seconds: %s", &list->name, age, error);

    } else if (error) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "exchange_access_list \"%V\": refresh failed "
                      "again: %s", &list->name, error);

    } else if (was_failing) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "exchange_access_list \"%V\": refresh works again, "
                      "%ui names", &list->name, sh->nelts);
    }
}


/* the last good list, one name a line, replaced with one rename */

static void
ngx_http_exchange_access_write_state(ngx_http_exchange_access_list_t *list,
    ngx_array_t *keys, ngx_log_t *log)
{
    u_char         *buf, *p;
    size_t          size;
    ngx_fd_t        fd;
    ngx_err_t       err;
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
