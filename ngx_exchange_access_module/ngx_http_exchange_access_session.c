
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


/*
 * Live sessions of allowed users, ended when their user leaves the list.
 *
 * A session is a request that a list allowed (an RPC_OUT_DATA channel may
 * stream for hours, a MAPI NotificationWait is held for minutes), or a
 * client connection whose NTLM or Negotiate identity the backend accepted
 * and a list allowed.  Each worker keeps its own in a queue; linking and
 * unlinking is all the request path does, with memory of the request or
 * of the connection.
 *
 * Once a second each worker reads the address and the generation of every
 * list's table, without a lock.  When either changed (in whichever worker
 * refreshed), the worker looks up the users of its sessions on that list
 * in the new table, as the request was decided (with the NetBIOS domain
 * of a sAMAccountName), and ends those who are not there: a request is
 * finalized as an error (its client connection closes, so does its
 * upstream connection), a connection is marked (its next request is
 * refused) and its kept upstream connection is closed.  Each is logged
 * once at warn and counted on the status page; in audit mode it is only
 * logged.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_module.h"


#define NGX_HTTP_EXCHANGE_ACCESS_SESSION_CHECK  1000


/* what this worker saw of a list at its last check */

typedef struct {
    ngx_http_exchange_access_list_t  *list;
    ngx_exa_table_t                  *table;
    ngx_uint_t                        generation;
} ngx_http_exchange_access_seen_t;


/*
 * A worker's sessions and what it saw of the lists; the timer's data
 * (nginx's debug log reads an event's data as a connection)
 */

typedef struct {
    ngx_queue_t                       sessions;
    ngx_http_exchange_access_seen_t  *seen;
    ngx_uint_t                        nseen;
    ngx_http_exchange_access_stats_t *stats;
    ngx_event_t                       check;
} ngx_http_exchange_access_registry_t;


static void ngx_http_exchange_access_session_check(ngx_event_t *ev);
static void ngx_http_exchange_access_session_collect(
    ngx_http_exchange_access_seen_t *seen, ngx_queue_t *ended);
static void ngx_http_exchange_access_session_end(
    ngx_http_exchange_access_session_t *s);


static ngx_http_exchange_access_registry_t  ngx_http_exchange_access_reg;


void
ngx_http_exchange_access_session_start(ngx_http_exchange_access_session_t *s)
{
    if (s->linked || ngx_http_exchange_access_reg.seen == NULL) {
        return;
    }

    ngx_queue_insert_tail(&ngx_http_exchange_access_reg.sessions,
                          &s->queue);
    s->linked = 1;
}


ngx_int_t
ngx_http_exchange_access_session_init_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                             i;
    ngx_event_t                           *ev;
    ngx_http_exchange_access_list_t      **lists;
    ngx_http_exchange_access_seen_t       *seen;
    ngx_http_exchange_access_main_conf_t  *eamcf;

    ngx_queue_init(&ngx_http_exchange_access_reg.sessions);
    ngx_http_exchange_access_reg.seen = NULL;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    eamcf = ngx_http_cycle_get_module_main_conf(cycle,
                                            ngx_http_exchange_access_module);

    if (eamcf == NULL || eamcf->lists.nelts == 0) {
        return NGX_OK;
    }

    seen = ngx_pcalloc(cycle->pool, eamcf->lists.nelts
                                    * sizeof(ngx_http_exchange_access_seen_t));
    if (seen == NULL) {
        return NGX_ERROR;
    }

    lists = eamcf->lists.elts;

    for (i = 0; i < eamcf->lists.nelts; i++) {
        seen[i].list = lists[i];

        if (lists[i]->sh) {
            seen[i].table = lists[i]->sh->table;
            ngx_memory_barrier();
            seen[i].generation = lists[i]->sh->generation;
        }
    }

    ngx_http_exchange_access_reg.seen = seen;
    ngx_http_exchange_access_reg.nseen = eamcf->lists.nelts;
    ngx_http_exchange_access_reg.stats = eamcf->stats;

    ev = &ngx_http_exchange_access_reg.check;

    ev->handler = ngx_http_exchange_access_session_check;
    ev->log = cycle->log;
    ev->data = &ngx_http_exchange_access_reg;
    ev->cancelable = 1;

    /* the workers' first looks at the lists spread out (list_tick) */

    ngx_add_timer(ev, 100 + ngx_random() % 400);

    return NGX_OK;
}


static void
ngx_http_exchange_access_session_check(ngx_event_t *ev)
{
    ngx_uint_t                           i;
    ngx_queue_t                          ended, *q;
    ngx_exa_table_t                     *t;
    ngx_http_exchange_access_seen_t     *seen;
    ngx_http_exchange_access_shctx_t    *sh;
    ngx_http_exchange_access_session_t  *s;

    ngx_http_exchange_access_list_tick((ngx_cycle_t *) ngx_cycle);

    seen = ngx_http_exchange_access_reg.seen;
    ngx_queue_init(&ended);

    for (i = 0; i < ngx_http_exchange_access_reg.nseen; i++) {
        sh = seen[i].list->sh;

        if (sh == NULL) {
            continue;
        }

        /*
         * the installing worker stores the generation before the table:
         * a table read first is never older than the generation read
         * after it, and a change of either is checked again
         */

        t = sh->table;
        ngx_memory_barrier();

        if (t == seen[i].table && sh->generation == seen[i].generation) {
            continue;
        }

        seen[i].table = t;
        seen[i].generation = sh->generation;

        if (t != NULL) {
            ngx_http_exchange_access_session_collect(&seen[i], &ended);
        }
    }

    /*
     * ending a session may end others (a request's connection): each is
     * taken off the queue before it is ended, and whatever ends meanwhile
     * unlinks itself
     */

    while (!ngx_queue_empty(&ended)) {
        q = ngx_queue_head(&ended);
        s = ngx_queue_data(q, ngx_http_exchange_access_session_t, queue);

        ngx_queue_remove(q);
        s->linked = 0;

        ngx_http_exchange_access_session_end(s);
    }

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_HTTP_EXCHANGE_ACCESS_SESSION_CHECK);
    }
}


/* requests first: ending one closes its connection and ends that too */

static void
ngx_http_exchange_access_session_collect(ngx_http_exchange_access_seen_t *seen,
    ngx_queue_t *ended)
{
    ngx_queue_t                         *q, *next;
    ngx_http_exchange_access_session_t  *s;

    for (q = ngx_queue_head(&ngx_http_exchange_access_reg.sessions);
         q != ngx_queue_sentinel(&ngx_http_exchange_access_reg.sessions);
         q = next)
    {
        next = ngx_queue_next(q);
        s = ngx_queue_data(q, ngx_http_exchange_access_session_t, queue);

        if (s->list != seen->list
            || ngx_exa_table_lookup(seen->table, s->key, s->len, s->domain,
                                    s->domain_len, s->first))
        {
            continue;
        }

        ngx_queue_remove(q);

        if (s->request) {
            ngx_queue_insert_head(ended, q);

        } else {
            ngx_queue_insert_tail(ended, q);
        }
    }
}


static void
ngx_http_exchange_access_session_end(ngx_http_exchange_access_session_t *s)
{
    time_t                             took;
    ngx_str_t                          user;
    ngx_connection_t                  *c;
    ngx_http_request_t                *r;
    ngx_http_exchange_access_stats_t  *stats;
    u_char                             esc[NGX_EXA_KEY_MAX * 4];

    c = s->connection;
    r = s->request;

    /* a name a client chose: escaped, as in every line of the module */

    user.data = esc;
    user.len = ngx_exa_log_escape(esc, s->key, ngx_min(s->len,
                                                       NGX_EXA_KEY_MAX));
    took = ngx_time() - s->started;

    ngx_log_error(NGX_LOG_WARN, c->log, 0,
                  "exchange access %s %s of user \"%V\": not on list "
                  "\"%V\" any more, protocol %s, after %T s",
                  s->audit ? "audit: would end the" : "ended the",
                  r ? "request" : "NTLM connection", &user, &s->list->name,
                  ngx_exa_protocol_name(s->protocol), took);

    if (s->audit) {
        return;
    }

    stats = ngx_http_exchange_access_reg.stats;

    if (stats) {
        (void) ngx_atomic_fetch_add(r ? &stats->ended_requests
                                      : &stats->ended_connections, 1);
    }

    if (r == NULL) {
        s->revoked = 1;
        ngx_http_exchange_access_ntlm_drop(c);
        return;
    }

    /*
     * The request and its client connection end here.  The request is
     * held while it is terminated: its upstream's cleanup finalizes it
     * once more on the way, which must not free it.
     */

    r->main->count++;
    c->error = 1;

    ngx_http_finalize_request(r, NGX_ERROR);
    ngx_http_run_posted_requests(c);
}
