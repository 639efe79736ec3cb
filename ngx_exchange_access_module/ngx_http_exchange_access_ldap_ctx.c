
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_ldap.h"


/*
 * The parts of an LDAP refresh or watch (ngx_http_exchange_access_ldap.c)
 * that never end it: they look at the context, the server's certificate,
 * the lease and the limits, and report with their return value; the
 * caller decides what follows.
 */


/*
 * Refreshes that are over, their memory given back a part at a time, one
 * part in each turn of the event loop (ngx_exa_lr_free()): giving back
 * the pages of a large refresh at once would hold this worker's requests
 * for milliseconds.  A small one goes at once.
 */

#define NGX_HTTP_EXCHANGE_ACCESS_LDAP_FREE   (1024 * 1024)
#define NGX_HTTP_EXCHANGE_ACCESS_LDAP_SMALL  (64 * 1024)
#define NGX_HTTP_EXCHANGE_ACCESS_LDAP_DEAD   8


static void ngx_http_exchange_access_ldap_reap(ngx_event_t *ev);


static ngx_exa_lr_t  *ngx_http_exchange_access_ldap_dead[
                                         NGX_HTTP_EXCHANGE_ACCESS_LDAP_DEAD];
static ngx_uint_t     ngx_http_exchange_access_ldap_ndead;
static ngx_event_t    ngx_http_exchange_access_ldap_reaper;

/*
 * the reaper's log: a posted event outlives the cycle whose log it would
 * take (a reload without a master process frees it); this one logs nothing
 */
static ngx_log_t      ngx_http_exchange_access_ldap_reaper_log;


ngx_http_exchange_access_ldap_url_t *
ngx_http_exchange_access_ldap_u(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    ngx_uint_t  i;

    i = ngx_min(ctx->url, ctx->lcf->urls->nelts - 1);

    return (ngx_http_exchange_access_ldap_url_t *) ctx->lcf->urls->elts + i;
}


#if (NGX_SSL)

/* the server's certificate: NULL if it is the one wanted, or why not */

const char *
ngx_http_exchange_access_ldap_verify(ngx_http_exchange_access_ldap_ctx_t *ctx,
    ngx_connection_t *c, u_char *buf, size_t size)
{
    long                                  rc;
    X509                                 *cert;
    ngx_http_exchange_access_ldap_url_t  *url;
    u_char                                name[256];

    if (!ctx->lcf->verify) {
        return NULL;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        ngx_snprintf(buf, size, "certificate verify error: (%l:%s)%Z",
                     rc, X509_verify_cert_error_string(rc));
        return (char *) buf;
    }

    cert = SSL_get_peer_certificate(c->ssl->connection);

    if (cert == NULL) {
        return "no server certificate";
    }

    url = ngx_http_exchange_access_ldap_u(ctx);

    ngx_cpystrn(name, url->host.data, ngx_min(url->host.len + 1, sizeof(name)));

    if (name[0] == '[') {
        name[ngx_strlen(name) - 1] = '\0';
        rc = X509_check_ip_asc(cert, (char *) name + 1, 0);

    } else if (ngx_inet_addr(name, ngx_strlen(name)) != INADDR_NONE) {
        rc = X509_check_ip_asc(cert, (char *) name, 0);

    } else {
        rc = X509_check_host(cert, (char *) name, ngx_strlen(name), 0, NULL);
    }

    X509_free(cert);

    if (rc != 1) {
        ngx_snprintf(buf, size, "certificate does not match \"%s\"%Z", name);
        return (char *) buf;
    }

    return NULL;
}

#endif


/* waits for the server: the next answer must come within ldap_timeout */

ngx_int_t
ngx_http_exchange_access_ldap_wait(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    ngx_connection_t  *c;

    c = ctx->peer.connection;

    if (!c->read->timer_set) {
        ngx_add_timer(c->read, ctx->lcf->timeout);
    }

    return ngx_handle_read_event(c->read, 0);
}


/* the server answers: the next answer has ldap_timeout again, the lease */

void
ngx_http_exchange_access_ldap_progress(
    ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    ngx_event_t  *rev;

    if (!ngx_exa_lr_progress(ctx->lr)) {
        return;
    }

    rev = ctx->peer.connection->read;

    if (rev->timer_set) {
        ngx_del_timer(rev);
    }

    ngx_add_timer(rev, ctx->lcf->timeout);

    ngx_http_exchange_access_ldap_renew(ctx);
}


/*
 * The lease lasts while the refresh goes on: it is renewed when the server
 * answers and when another server is tried, never for longer than a wait
 * (ldap_timeout) can take, so that a worker that dies or stops loses it.
 */

void
ngx_http_exchange_access_ldap_renew(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    ngx_http_exchange_access_list_t  *list;

    if (ctx->watch || ngx_time() == ctx->renewed) {
        return;
    }

    ctx->renewed = ngx_time();
    list = ctx->list;

    ngx_shmtx_lock(&list->shpool->mutex);

    if (list->sh->lease_pid == ngx_pid) {
        list->sh->lease_until = ctx->renewed + list->source->lease(list);
    }

    ngx_shmtx_unlock(&list->shpool->mutex);
}


const char *
ngx_http_exchange_access_ldap_state(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    if (ctx->lr == NULL || ctx->state == NGX_EXA_LR_HANDSHAKE) {
        return ngx_exa_lr_state_name(ctx->state);
    }

    return ngx_exa_lr_state_name(ngx_exa_lr_state(ctx->lr));
}


void
ngx_http_exchange_access_ldap_note(void *data, const char *text)
{
    ngx_http_exchange_access_ldap_ctx_t  *ctx = data;

    ngx_log_error(NGX_LOG_INFO, ctx->log, 0, "exchange_access_list \"%V\": %s",
                  &ctx->list->name, text);
}


/*
 * What a refresh may keep: the new table must fit in the zone beside the
 * one in use, and the working memory stays within a few times the zone.
 */

void
ngx_http_exchange_access_ldap_limits(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    size_t                            used;
    ngx_exa_table_t                  *t;
    ngx_http_exchange_access_list_t  *list;

    list = ctx->list;
    t = list->sh->table;

    used = (t ? t->size : 0) + 16 * ngx_pagesize;

    ctx->lrcf.zone_size = list->size;
    ctx->lrcf.table_max = list->size > used ? list->size - used : 1;
    ctx->lrcf.memory_max = 8 * list->size + 32 * 1024 * 1024;
}


/*
 * The watch saw a change (named: the watch's context can give the DNs
 * of the entries that changed): kept for the next refresh in this worker.
 */

void
ngx_http_exchange_access_ldap_seen(ngx_http_exchange_access_ldap_ctx_t *ctx,
    ngx_uint_t named)
{
    u_char                                 *p;
    size_t                                  i, n;
    const ngx_exa_str_t                    *dns;
    ngx_http_exchange_access_ldap_known_t  *k;

    k = &ctx->lcf->known;
    k->changes++;

    if (!named || ngx_exa_lr_changes(ctx->lr, &dns, &n) != 0
        || k->ndns + n > NGX_HTTP_EXCHANGE_ACCESS_LDAP_CHANGES)
    {
        k->unnamed = 1;
        (void) ngx_exa_lr_changes(ctx->lr, NULL, NULL);
        return;
    }

    if (k->dns == NULL) {
        k->dns = ngx_alloc(NGX_HTTP_EXCHANGE_ACCESS_LDAP_CHANGES
                           * sizeof(ngx_exa_str_t), ctx->log);
        if (k->dns == NULL) {
            k->unnamed = 1;
            (void) ngx_exa_lr_changes(ctx->lr, NULL, NULL);
            return;
        }
    }

    for (i = 0; i < n; i++) {
        p = ngx_alloc(dns[i].len, ctx->log);
        if (p == NULL) {
            k->unnamed = 1;
            break;
        }

        ngx_memcpy(p, dns[i].data, dns[i].len);

        k->dns[k->ndns].data = p;
        k->dns[k->ndns].len = dns[i].len;
        k->ndns++;
    }

    (void) ngx_exa_lr_changes(ctx->lr, NULL, NULL);
}


static void
ngx_http_exchange_access_ldap_forget(ngx_http_exchange_access_ldap_known_t *k)
{
    size_t  i;

    for (i = 0; i < k->ndns; i++) {
        ngx_free((void *) k->dns[i].data);
    }

    k->ndns = 0;
    k->changes = 0;
    k->unnamed = 0;
}


/* what the worker kept goes with its cycle (a pool cleanup) */

void
ngx_http_exchange_access_ldap_known_free(void *data)
{
    ngx_http_exchange_access_ldap_known_t  *k = data;

    ngx_http_exchange_access_ldap_forget(k);

    if (k->dns) {
        ngx_free(k->dns);
        k->dns = NULL;
    }

    ngx_exa_lm_destroy(k->model);
    k->model = NULL;
}


/*
 * A refresh starts: a delta when this worker's model has every change
 * since it by DN (the changes the refresh covers are all seen here), and
 * the full read of every "refresh" seconds is not due; otherwise a full
 * read, which records a new model if a watch may use it.
 */

void
ngx_http_exchange_access_ldap_plan(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    ngx_http_exchange_access_list_t        *list;
    ngx_http_exchange_access_ldap_known_t  *k;

    list = ctx->list;
    k = &ctx->lcf->known;

    ctx->seq = list->changes;

    if (k->model && !k->unnamed && k->ndns && k->changes
        && k->seq + k->changes == list->changes
        && ngx_time() < k->full + list->refresh)
    {
        ctx->delta = 1;
        ctx->model = k->model;
        ctx->changed = ngx_palloc(ctx->pool, k->ndns * sizeof(ngx_exa_str_t));

        if (ctx->changed) {
            ngx_memcpy(ctx->changed, k->dns, k->ndns * sizeof(ngx_exa_str_t));
            ctx->nchanged = k->ndns;

            /* the strings are the refresh's now */

            k->ndns = 0;
            k->model = NULL;
            ngx_http_exchange_access_ldap_forget(k);
            return;
        }

        ctx->delta = 0;
        ctx->model = NULL;
    }

    ngx_http_exchange_access_ldap_forget(k);
    ngx_exa_lm_destroy(k->model);
    k->model = NULL;

    if (ctx->lcf->watch != NGX_HTTP_EXCHANGE_ACCESS_WATCH_OFF
        && ctx->lcf->nested != NGX_EXA_LDAP_NESTED_CHAIN)
    {
        ctx->model = ngx_exa_lm_create(ctx->lrcf.memory_max);
    }
}


/* a server's refresh starts: applies the changes, or records */

ngx_int_t
ngx_http_exchange_access_ldap_model(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    if (ctx->model == NULL) {
        return NGX_OK;
    }

    /* a delta that failed on another server left the model half changed */

    if (ctx->delta
        && (ctx->tries++ > 0
            || ngx_exa_lr_apply(ctx->lr, ctx->model, ctx->changed,
                                ctx->nchanged)
               != 0))
    {
        ctx->delta = 0;
        ngx_exa_lm_destroy(ctx->model);

        ctx->model = ngx_exa_lm_create(ctx->lrcf.memory_max);
        if (ctx->model == NULL) {
            return NGX_OK;
        }
    }

    if (!ctx->delta) {
        ngx_exa_lr_record(ctx->lr, ctx->model);
    }

    return NGX_OK;
}


/* the refresh ended: its model is the worker's, if it read all */

void
ngx_http_exchange_access_ldap_keep(ngx_http_exchange_access_ldap_ctx_t *ctx,
    ngx_uint_t ok)
{
    size_t                                  i;
    ngx_http_exchange_access_ldap_known_t  *k;

    k = &ctx->lcf->known;

    for (i = 0; i < ctx->nchanged; i++) {
        ngx_free((void *) ctx->changed[i].data);
    }

    ctx->nchanged = 0;

    if (ok && ctx->model && k->model == NULL) {
        k->model = ctx->model;
        k->seq = ctx->seq;

        if (!ctx->delta) {
            k->full = ngx_time();

            ngx_log_error(NGX_LOG_INFO, ctx->log, 0,
                          "exchange_access_list \"%V\": the worker keeps "
                          "the DNs and names of the %uz members (%uz KB) to "
                          "apply the watch's changes", &ctx->list->name,
                          ngx_exa_lm_members(k->model),
                          ngx_exa_lm_memory(k->model) >> 10);
        }

        ctx->model = NULL;
        return;
    }

    ngx_exa_lm_destroy(ctx->model);
    ctx->model = NULL;
}


/* a refresh's pool goes (its end, or the worker's): what it held too */

void
ngx_http_exchange_access_ldap_drop(void *data)
{
    ngx_http_exchange_access_ldap_keep(data, 0);
}


/* a refresh that is over goes: its handle may be unbound after this */

void
ngx_http_exchange_access_ldap_free(ngx_exa_lr_t *lr)
{
    ngx_event_t  *ev;

    ngx_exa_lr_detach(lr);

    if (ngx_exa_lr_free(lr, NGX_HTTP_EXCHANGE_ACCESS_LDAP_SMALL)) {
        return;
    }

    if (ngx_http_exchange_access_ldap_ndead
        == NGX_HTTP_EXCHANGE_ACCESS_LDAP_DEAD)
    {
        /* never more than a few wait: this one goes at once */

        while (!ngx_exa_lr_free(lr, (size_t) -1)) { /* void */ }
        return;
    }

    ngx_http_exchange_access_ldap_dead[ngx_http_exchange_access_ldap_ndead++]
        = lr;

    ev = &ngx_http_exchange_access_ldap_reaper;

    if (!ev->posted && !ev->timer_set) {
        ev->handler = ngx_http_exchange_access_ldap_reap;
        ev->data = ev;
        ev->log = &ngx_http_exchange_access_ldap_reaper_log;
        ev->cancelable = 1;

        ngx_http_exchange_access_post_next(ev);
    }
}


static void
ngx_http_exchange_access_ldap_reap(ngx_event_t *ev)
{
    ngx_uint_t  n;

    n = ngx_http_exchange_access_ldap_ndead - 1;

    if (ngx_exa_lr_free(ngx_http_exchange_access_ldap_dead[n],
                        NGX_HTTP_EXCHANGE_ACCESS_LDAP_FREE))
    {
        ngx_http_exchange_access_ldap_ndead = n;
    }

    if (ngx_http_exchange_access_ldap_ndead) {
        ngx_http_exchange_access_post_next(ev);
    }
}

