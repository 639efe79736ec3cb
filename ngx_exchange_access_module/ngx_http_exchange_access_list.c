
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_module.h"


/*
 * The exchange_access_list block and the refresh timer.  The block's
 * directives are tables of ngx_command_t: the list's own below, and each
 * source's; the first source directive picks the source.  Refreshes are
 * the source's: this file only decides when one is due and who runs it.
 */


#define NGX_HTTP_EXCHANGE_ACCESS_SOURCE(name)                                \
    extern ngx_http_exchange_access_source_t                                 \
        ngx_http_exchange_access_##name##_source;
#include "ngx_http_exchange_access_sources.h"
#undef NGX_HTTP_EXCHANGE_ACCESS_SOURCE


static char *ngx_http_exchange_access_list_param(ngx_conf_t *cf,
    ngx_command_t *dummy, void *conf);
static char *ngx_http_exchange_access_list_command(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list, ngx_command_t *cmd,
    ngx_http_exchange_access_source_t *source);
static char *ngx_http_exchange_access_list_init(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list);
static char *ngx_http_exchange_access_zone_size(ngx_conf_t *cf, void *post,
    void *data);
static void ngx_http_exchange_access_list_take(
    ngx_http_exchange_access_list_t *list, ngx_log_t *log);


static ngx_http_exchange_access_source_t  *ngx_http_exchange_access_sources[]
    = {
#define NGX_HTTP_EXCHANGE_ACCESS_SOURCE(name)                                \
    &ngx_http_exchange_access_##name##_source,
#include "ngx_http_exchange_access_sources.h"
#undef NGX_HTTP_EXCHANGE_ACCESS_SOURCE
    NULL
};


static ngx_conf_post_handler_pt  ngx_http_exchange_access_zone_post =
    ngx_http_exchange_access_zone_size;

static ngx_conf_num_bounds_t  ngx_http_exchange_access_refresh_bounds = {
    ngx_conf_check_num_bounds, 1, 365 * 24 * 3600
};

static ngx_http_exchange_access_path_post_t  ngx_http_exchange_access_state_post
    = { ngx_http_exchange_access_conf_full_name, 0 };


static ngx_command_t  ngx_http_exchange_access_list_commands[] = {

    { ngx_string("zone"),
      NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      0,
      offsetof(ngx_http_exchange_access_list_t, size),
      &ngx_http_exchange_access_zone_post },

    { ngx_string("refresh"),
      NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      0,
      offsetof(ngx_http_exchange_access_list_t, refresh),
      &ngx_http_exchange_access_refresh_bounds },

    { ngx_string("state_file"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_exchange_access_list_t, state_file),
      &ngx_http_exchange_access_state_post },

      ngx_null_command
};


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

    /*
     * set by ngx_pcalloc():
     *
     *     list->state_file = { 0, NULL };
     *     list->source = NULL;
     *     list->keys = NULL;
     */

    list->size = NGX_CONF_UNSET_SIZE;
    list->refresh = NGX_CONF_UNSET;

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

    rv = ngx_http_exchange_access_list_init(cf, list);
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


/* one directive of the block: the list's own, or a source's */

static char *
ngx_http_exchange_access_list_param(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf)
{
    ngx_http_exchange_access_list_t  *list = conf;

    ngx_str_t                           *name;
    ngx_uint_t                           i;
    ngx_command_t                       *cmd;
    ngx_http_exchange_access_source_t   *source;

    name = cf->args->elts;

    for (cmd = ngx_http_exchange_access_list_commands; cmd->name.len; cmd++)
    {
        if (cmd->name.len == name->len
            && ngx_strncmp(cmd->name.data, name->data, name->len) == 0)
        {
            return ngx_http_exchange_access_list_command(cf, list, cmd,
                                                         NULL);
        }
    }

    for (i = 0; ngx_http_exchange_access_sources[i]; i++) {
        source = ngx_http_exchange_access_sources[i];

        for (cmd = source->commands; cmd->name.len; cmd++) {
            if (cmd->name.len == name->len
                && ngx_strncmp(cmd->name.data, name->data, name->len) == 0)
            {
                return ngx_http_exchange_access_list_command(cf, list, cmd,
                                                             source);
            }
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "unknown directive \"%V\"",
                       name);

    return NGX_CONF_ERROR;
}


/* a directive of the block: the source it belongs to, then nginx's rules */

static char *
ngx_http_exchange_access_list_command(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list, ngx_command_t *cmd,
    ngx_http_exchange_access_source_t *source)
{
    if (source == NULL) {
        return ngx_http_exchange_access_conf_command(cf, cmd, list);
    }

    if (list->source && list->source != source) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "exchange_access_list \"%V\" has more than one "
                           "source", &list->name);
        return NGX_CONF_ERROR;
    }

    if (list->source == NULL) {
        list->source_conf = source->create_conf(cf);
        if (list->source_conf == NULL) {
            return NGX_CONF_ERROR;
        }

        list->source = source;
    }

    return ngx_http_exchange_access_conf_command(cf, cmd, list->source_conf);
}


/* after the block: defaults, the source's checks, the state file */

static char *
ngx_http_exchange_access_list_init(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list)
{
    char  *rv;

    if (list->size == NGX_CONF_UNSET_SIZE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "exchange_access_list \"%V\" has no \"zone\"",
                           &list->name);
        return NGX_CONF_ERROR;
    }

    if (list->source == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "exchange_access_list \"%V\" has no source: "
                           "give \"file\" or \"ldap_url\"", &list->name);
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_value(list->refresh, 60);

    if (list->state_file.len && !list->source->state_file) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"state_file\" of exchange_access_list \"%V\" "
                           "is not used with a %V source",
                           &list->name, &list->source->name);
        return NGX_CONF_ERROR;
    }

    rv = list->source->init_conf(cf, list);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (list->state_file.len && list->keys == NULL) {
        if (ngx_http_exchange_access_state_read(cf, list) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_exchange_access_zone_size(ngx_conf_t *cf, void *post, void *data)
{
    size_t  *sp = data;

    ngx_str_t                        *value;
    ngx_http_exchange_access_list_t  *list;

    if (*sp >= 8 * ngx_pagesize) {
        return NGX_CONF_OK;
    }

    value = cf->args->elts;
    list = (ngx_http_exchange_access_list_t *)
               ((u_char *) sp - offsetof(ngx_http_exchange_access_list_t,
                                         size));

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "zone of exchange_access_list \"%V\" is too small: "
                       "%V, at least %uzk", &list->name, &value[1],
                       8 * ngx_pagesize / 1024);

    return NGX_CONF_ERROR;
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
 * expires.  The worker's one timer calls this
 * (ngx_http_exchange_access_session.c): a timer of each list's own would
 * deepen the timer tree every request's timers go through.
 */

void
ngx_http_exchange_access_list_tick(ngx_cycle_t *cycle)
{
    ngx_uint_t                             i;
    ngx_http_exchange_access_list_t       *list, **lists;
    ngx_http_exchange_access_main_conf_t  *eamcf;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    eamcf = ngx_http_cycle_get_module_main_conf(cycle,
                                            ngx_http_exchange_access_module);
    if (eamcf == NULL) {
        return;
    }

    lists = eamcf->lists.elts;

    for (i = 0; i < eamcf->lists.nelts; i++) {
        list = lists[i];

        if (list->sh == NULL) {
            continue;
        }

        ngx_http_exchange_access_list_stale(list, cycle->log);

        if (list->source->watch) {
            list->source->watch(list, cycle->log);
        }

        ngx_http_exchange_access_list_take(list, cycle->log);
    }
}


/*
 * A worker that exits (shutdown, reload) while it builds a new table gives
 * its room in the zone back: the refresh itself is abandoned, and the
 * lease expires.
 */

void
ngx_http_exchange_access_list_exit_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                             i;
    ngx_http_exchange_access_list_t      **lists;
    ngx_http_exchange_access_main_conf_t  *eamcf;

    eamcf = ngx_http_cycle_get_module_main_conf(cycle,
                                            ngx_http_exchange_access_module);
    if (eamcf == NULL) {
        return;
    }

    lists = eamcf->lists.elts;

    for (i = 0; i < eamcf->lists.nelts; i++) {
        if (lists[i]->installing) {
            ngx_http_exchange_access_install_abort(lists[i]->installing);
        }
    }
}


/* a refresh, if one is due, nobody holds the lease and none runs here */

static void
ngx_http_exchange_access_list_take(ngx_http_exchange_access_list_t *list,
    ngx_log_t *log)
{
    time_t                             now;
    ngx_uint_t                         take;
    ngx_http_exchange_access_shctx_t  *sh;

    if (list->running) {
        return;
    }

    sh = list->sh;
    now = ngx_time();
    take = 0;

    ngx_shmtx_lock(&list->shpool->mutex);

    ngx_http_exchange_access_list_reap_locked(list);

    if (now >= sh->next_refresh
        && (sh->lease_pid == 0 || now >= sh->lease_until))
    {
        take = 1;
        sh->lease_pid = ngx_pid;
        sh->lease_until = now + list->source->lease(list);
        sh->last_attempt = now;
        sh->attempts++;

        /* the changes the watch saw so far: this refresh has them */

        list->changes = sh->watch_seq;

        if (sh->watch_seq != sh->watch_done) {
            sh->watch_refreshes++;
        }
    }

    ngx_shmtx_unlock(&list->shpool->mutex);

    if (!take) {
        return;
    }

    list->started = ngx_current_msec;
    list->step_longest = 0;
    list->step_longest_cpu = 0;
    list->refresh_cpu = 0;

    ngx_http_exchange_access_step_start(list);

    list->source->refresh(list, log);

    ngx_http_exchange_access_step_end(list);
}


/*
 * The watch saw a change (at: the directory's time of it, microseconds,
 * or 0; -1: none seen, but some may have been missed): a refresh now,
 * here if nobody refreshes, else right after the one under way, which
 * may have read the directory before the change.
 */

void
ngx_http_exchange_access_list_changed(ngx_http_exchange_access_list_t *list,
    int64_t at, ngx_log_t *log)
{
    ngx_http_exchange_access_shctx_t  *sh;

    sh = list->sh;

    ngx_shmtx_lock(&list->shpool->mutex);

    sh->watch_seq++;

    if (at >= 0) {
        sh->watch_changes++;
        sh->watch_last = ngx_time();
        sh->watch_at = at;
        sh->watch_at_seq = sh->watch_seq;
    }
    sh->next_refresh = 0;

    ngx_shmtx_unlock(&list->shpool->mutex);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                   "exchange_access_list \"%V\": the directory changed",
                   &list->name);

    ngx_http_exchange_access_list_take(list, log);
}


/*
 * The source's watch ended: stopped (error is NULL), or failed: the next
 * one after a back-off of 1, 2, 4 ... 30 seconds, said once.
 */

void
ngx_http_exchange_access_list_watch_failed(
    ngx_http_exchange_access_list_t *list, const char *error, ngx_log_t *log)
{
    ngx_shmtx_lock(&list->shpool->mutex);
    list->sh->watch_up = 0;
    ngx_shmtx_unlock(&list->shpool->mutex);

    if (error == NULL) {
        return;
    }

    list->watch_backoff = ngx_min(30, ngx_max(1, 2 * list->watch_backoff));
    list->watch_retry = ngx_time() + list->watch_backoff;

    if (!list->watch_failing) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "exchange_access_list \"%V\": the watch failed, the "
                      "list stays as it is until the watch reconnects or "
                      "the next refresh: %s", &list->name, error);

    } else {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "exchange_access_list \"%V\": the watch failed "
                      "again: %s", &list->name, error);
    }

    list->watch_failing = 1;
}
