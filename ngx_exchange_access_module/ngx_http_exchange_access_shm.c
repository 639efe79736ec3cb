
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_module.h"


/*
 * The zone of a list: its generations of the table, published with one
 * pointer store and freed after a grace period, and the record of its
 * refreshes (the lease, the result, the next one).
 */


/* a retired table is freed once no lookup can still be reading it */
#define NGX_HTTP_EXCHANGE_ACCESS_GRACE      10

#define ngx_http_exchange_access_gen_table(gen)                              \
    ((ngx_exa_table_t *) ((u_char *) (gen)                                   \
        + ngx_align(sizeof(ngx_http_exchange_access_gen_t), 8)))


static void ngx_http_exchange_access_loaded_from(
    ngx_http_exchange_access_list_t *list, ngx_uint_t from_state);


ngx_int_t
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
        list->sh->created = ngx_time();

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

    if (list->state_error.len) {
        ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, 0,
                      "exchange_access_list \"%V\": %V", &list->name,
                      &list->state_error);
    }

    if (list->keys == NULL) {
        return NGX_OK;
    }

    /* a state file only stands in for a list the zone does not have */

    if (list->keys_from_state && list->sh->table != NULL) {
        return NGX_OK;
    }

    if (!list->keys_from_state) {
        list->sh->version = list->version;
    }

    rc = ngx_http_exchange_access_list_install(list, list->keys,
                                               list->keys_from_state,
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


/* what the table in use was loaded from: the source's name, under the lock */

static void
ngx_http_exchange_access_loaded_from(ngx_http_exchange_access_list_t *list,
    ngx_uint_t from_state)
{
    ngx_str_t  *name, state;

    ngx_str_set(&state, "state_file");

    name = from_state ? &state : &list->source->name;

    ngx_cpystrn(list->sh->loaded_from, name->data,
                ngx_min(name->len + 1, sizeof(list->sh->loaded_from)));
}


/*
 * Builds a new generation of the table aside in the zone and publishes it
 * with one pointer store, in one go.  Returns NGX_OK (installed or
 * unchanged), NGX_DECLINED (does not fit: the current table stays) or
 * NGX_ERROR.
 */

ngx_int_t
ngx_http_exchange_access_list_install(ngx_http_exchange_access_list_t *list,
    ngx_array_t *keys, ngx_uint_t from_state, ngx_log_t *log)
{
    ngx_int_t                           rc;
    ngx_http_exchange_access_install_t  in;

    rc = ngx_http_exchange_access_install_start(&in, list, keys, from_state);

    if (rc != NGX_OK) {
        return rc;
    }

    do {
        rc = ngx_http_exchange_access_install_step(&in, 0, log);
    } while (rc == NGX_AGAIN);

    return rc;
}


/*
 * The same in steps: _start() takes the room in the zone (NGX_OK, or
 * NGX_DECLINED when it does not fit), each _step() builds, then compares
 * with the table in use, for about usec microseconds of work (0: to the
 * end) and returns NGX_AGAIN until it has published the new table or
 * found it the same as the one in use (NGX_OK), or failed (NGX_ERROR).
 * _abort() gives the room back, at any point.
 */

#define NGX_HTTP_EXCHANGE_ACCESS_INSTALL_BUILD    0
#define NGX_HTTP_EXCHANGE_ACCESS_INSTALL_COMPARE  1
#define NGX_HTTP_EXCHANGE_ACCESS_INSTALL_PUBLISH  2

/* units of work (keys, slots) between two reads of the clock */
#define NGX_HTTP_EXCHANGE_ACCESS_INSTALL_WORK     64


/* a stepped install is registered by its caller, to be aborted at exit */

static void
ngx_http_exchange_access_install_forget(ngx_http_exchange_access_install_t *in)
{
    if (in->list->installing == in) {
        in->list->installing = NULL;
    }
}


ngx_int_t
ngx_http_exchange_access_install_start(ngx_http_exchange_access_install_t *in,
    ngx_http_exchange_access_list_t *list, ngx_array_t *keys,
    ngx_uint_t from_state)
{
    size_t                           size, hdr, keybytes;
    ngx_uint_t                       i;
    ngx_exa_str_t                   *k;
    ngx_slab_pool_t                 *shpool;
    ngx_http_exchange_access_gen_t  *gen;

    ngx_memzero(in, sizeof(ngx_http_exchange_access_install_t));

    shpool = list->shpool;
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

    in->list = list;
    in->gen = gen;
    in->generation = list->sh->generation;
    in->from_state = from_state;
    in->phase = NGX_HTTP_EXCHANGE_ACCESS_INSTALL_BUILD;

    ngx_exa_table_build_start(&in->build,
                              ngx_http_exchange_access_gen_table(gen), size,
                              k, keys->nelts);

    return NGX_OK;
}


ngx_int_t
ngx_http_exchange_access_install_step(ngx_http_exchange_access_install_t *in,
    ngx_msec_t usec, ngx_log_t *log)
{
    int                                rc;
    int64_t                            start;
    ngx_exa_table_t                   *t;
    ngx_slab_pool_t                   *shpool;
    ngx_http_exchange_access_gen_t    *gen, *old;
    ngx_http_exchange_access_list_t   *list;
    ngx_http_exchange_access_shctx_t  *sh;

    list = in->list;
    shpool = list->shpool;
    sh = list->sh;
    gen = in->gen;
    t = ngx_http_exchange_access_gen_table(gen);

    start = usec ? ngx_http_exchange_access_usec() : 0;
    in->steps++;

    for ( ;; ) {

        switch (in->phase) {

        case NGX_HTTP_EXCHANGE_ACCESS_INSTALL_BUILD:
            rc = ngx_exa_table_build_step(&in->build,
                                     NGX_HTTP_EXCHANGE_ACCESS_INSTALL_WORK);
            if (rc == NGX_EXA_TABLE_AGAIN) {
                break;
            }

            if (rc != 0) {
                ngx_log_error(NGX_LOG_ALERT, log, 0,
                              "exchange_access_list \"%V\": table build "
                              "failed", &list->name);
                ngx_http_exchange_access_install_abort(in);
                return NGX_ERROR;
            }

            /* the table in use: retired tables outlive any step by far */

            in->against = sh->current;

            if (in->against == NULL) {
                in->phase = NGX_HTTP_EXCHANGE_ACCESS_INSTALL_PUBLISH;
                break;
            }

            ngx_exa_table_equal_start(&in->cmp, sh->table, t);
            in->phase = NGX_HTTP_EXCHANGE_ACCESS_INSTALL_COMPARE;
            break;

        case NGX_HTTP_EXCHANGE_ACCESS_INSTALL_COMPARE:
            if (sh->current != in->against) {
                /* another table came meanwhile: this one is new to it */
                in->cmp.result = 0;
                in->phase = NGX_HTTP_EXCHANGE_ACCESS_INSTALL_PUBLISH;
                break;
            }

            if (ngx_exa_table_equal_step(&in->cmp,
                                         NGX_HTTP_EXCHANGE_ACCESS_INSTALL_WORK)
                != NGX_EXA_TABLE_AGAIN)
            {
                in->phase = NGX_HTTP_EXCHANGE_ACCESS_INSTALL_PUBLISH;
            }

            break;

        default: /* NGX_HTTP_EXCHANGE_ACCESS_INSTALL_PUBLISH */
            goto publish;
        }

        if (usec && in->phase != NGX_HTTP_EXCHANGE_ACCESS_INSTALL_PUBLISH
            && ngx_http_exchange_access_usec() - start >= (int64_t) usec)
        {
            return NGX_AGAIN;
        }
    }

publish:

    ngx_shmtx_lock(&shpool->mutex);

    sh->loaded = ngx_time();

    if (in->against && sh->current == in->against && in->cmp.result == 1) {
        if (!in->from_state) {
            ngx_http_exchange_access_loaded_from(list, 0);
        }

        ngx_slab_free_locked(shpool, gen);
        in->gen = NULL;
        ngx_http_exchange_access_install_forget(in);
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
    ngx_http_exchange_access_loaded_from(list, in->from_state);

    if (old) {
        old->retired = ngx_time();
        old->next = sh->retired;
        sh->retired = old;
    }

    in->gen = NULL;
    ngx_http_exchange_access_install_forget(in);

    ngx_shmtx_unlock(&shpool->mutex);

    if (in->steps > 1) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "exchange_access_list \"%V\": %uD names loaded, "
                      "generation %ui, built in %ui steps", &list->name,
                      t->nelts, gen->generation, in->steps);

    } else {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "exchange_access_list \"%V\": %uD names loaded%s, "
                      "generation %ui", &list->name, t->nelts,
                      in->from_state ? " from the state file" : "",
                      gen->generation);
    }

    return NGX_OK;
}


void
ngx_http_exchange_access_install_abort(ngx_http_exchange_access_install_t *in)
{
    if (in->gen) {
        ngx_slab_free(in->list->shpool, in->gen);
        in->gen = NULL;
        ngx_http_exchange_access_install_forget(in);
    }
}


void
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
    u_char *key, size_t len, const u_char *netbios, size_t nlen,
    ngx_uint_t first)
{
    ngx_exa_table_t  *t;

    t = list->sh->table;

    if (t == NULL) {
        return NGX_ERROR;
    }

    return ngx_exa_table_lookup(t, key, len, netbios, nlen, first)
           ? NGX_OK : NGX_DECLINED;
}


/*
 * What an install's result means to the refresh that asked for it, and the
 * state file written when the list changed; generation is the zone's
 * before the install.  Returns an error, or NULL.
 */

const char *
ngx_http_exchange_access_list_installed(ngx_http_exchange_access_list_t *list,
    ngx_array_t *keys, ngx_int_t rc, ngx_uint_t generation, ngx_log_t *log)
{
    ngx_http_exchange_access_shctx_t  *sh;

    sh = list->sh;

    if (rc == NGX_DECLINED) {
        return "the new list does not fit in the zone, make \"zone\" larger";
    }

    if (rc != NGX_OK) {
        return "the new list could not be built";
    }

    if (list->state_file.len
        && (generation != sh->generation
            || sh->last_success == 0
            || sh->state_error[0]))
    {
        ngx_http_exchange_access_state_write(list, keys, log);
    }

    return NULL;
}


/*
 * The end of a refresh: the lease goes, the result is installed (or the
 * last good table stays), and the error log hears of changes of state
 * only: the first failure, and the recovery.  That the list is stale is
 * the timer's to tell (ngx_http_exchange_access_list_stale()).
 */

void
ngx_http_exchange_access_list_done(ngx_http_exchange_access_list_t *list,
    ngx_array_t *keys, const char *error, ngx_log_t *log)
{
    time_t                             now, next, retry;
    int64_t                            ms;
    ngx_int_t                          rc;
    ngx_uint_t                         was_failing, generation;
    ngx_time_t                        *tp;
    ngx_http_exchange_access_shctx_t  *sh;

    sh = list->sh;
    now = ngx_time();

    if (keys) {
        generation = sh->generation;

        rc = ngx_http_exchange_access_list_install(list, keys, 0, log);

        error = ngx_http_exchange_access_list_installed(list, keys, rc,
                                                        generation, log);
    }

    /* the next refresh: the interval with 10% of jitter, sooner on error */

    next = list->refresh + (time_t) (ngx_random() % (list->refresh / 10 + 1));
    retry = ngx_max(1, ngx_min(60, list->refresh / 4));

    ngx_shmtx_lock(&list->shpool->mutex);

    was_failing = sh->failing;

    sh->lease_pid = 0;
    sh->lease_until = 0;
    sh->last_duration = ngx_current_msec - list->started;

    ngx_http_exchange_access_step_end(list);
    sh->last_step = list->step_longest;
    sh->last_step_cpu = list->step_longest_cpu;
    sh->last_cpu = list->refresh_cpu;

    if (error) {
        sh->failing = 1;
        sh->failures++;
        sh->next_refresh = now + retry;
        ngx_cpystrn(sh->error, (u_char *) error, sizeof(sh->error));

    } else {
        sh->failing = 0;
        sh->stale = 0;
        sh->next_refresh = now + next;

        sh->last_success = now;

        if (sh->watch_at_seq > sh->watch_done
            && list->changes >= sh->watch_at_seq)
        {
            /* the list has the last change the watch saw: how long it took */

            tp = ngx_timeofday();
            ms = (int64_t) tp->sec * 1000 + tp->msec;

            sh->watch_delay = (sh->watch_at && ms > sh->watch_at / 1000)
                              ? ms - sh->watch_at / 1000 : 0;
        }

        if (list->changes > sh->watch_done) {
            sh->watch_done = list->changes;
        }

        /* a change seen while the refresh ran: another one, now */

        if (sh->watch_seq != list->changes) {
            sh->next_refresh = 0;
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


/*
 * A list is stale when no refresh has worked for three intervals, whether
 * they failed or never ended: told once, by the first worker to see it.
 */

void
ngx_http_exchange_access_list_stale(ngx_http_exchange_access_list_t *list,
    ngx_log_t *log)
{
    time_t                             now, age;
    ngx_uint_t                         failing;
    ngx_http_exchange_access_shctx_t  *sh;
    u_char                             error[NGX_HTTP_EXCHANGE_ACCESS_ERR_LEN];

    sh = list->sh;
    now = ngx_time();

    ngx_shmtx_lock(&list->shpool->mutex);

    age = now - (sh->last_success ? sh->last_success : sh->created);

    if (sh->table == NULL || sh->stale || age <= 3 * list->refresh) {
        ngx_shmtx_unlock(&list->shpool->mutex);
        return;
    }

    sh->stale = 1;
    failing = sh->failing;
    ngx_memcpy(error, sh->error, sizeof(error));

    ngx_shmtx_unlock(&list->shpool->mutex);

    error[sizeof(error) - 1] = '\0';

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "exchange_access_list \"%V\": stale, no refresh has "
                  "worked for %T seconds: %s", &list->name, age,
                  failing ? (char *) error
                          : "the refresh under way has not ended");
}


/*
 * A step of a refresh that kept the event loop long: how much of it was
 * the refresh's own work (CPU time) and how much the CPU was given to
 * something else (another process, the hypervisor), and when it ended, to
 * the microsecond, so that a slow answer can be matched with it.
 */

void
ngx_http_exchange_access_step_slow(ngx_http_exchange_access_list_t *list,
    int64_t wall, int64_t cpu)
{
    struct timeval  tv;

    ngx_gettimeofday(&tv);

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "exchange_access_list \"%V\": a refresh step kept the "
                  "event loop %L us, %L us of it on the CPU, until %T.%06l",
                  &list->name, wall, cpu, (time_t) tv.tv_sec,
                  (long) tv.tv_usec);
}
