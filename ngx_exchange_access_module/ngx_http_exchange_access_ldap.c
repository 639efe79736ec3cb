
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_ldap.h"


/*
 * A refresh of the LDAP source on nginx's event loop.  This file owns the
 * connection: connecting to each URL's addresses in turn, TLS with nginx's
 * OpenSSL, the timers and the lease.  What to ask and how to read the
 * answers is ngx_exa_ldap_refresh.c's, which has the diagram of the
 * states; libldap encodes and decodes through the Sockbuf layer of
 * ngx_http_exchange_access_ldap_io.c and is never asked to wait.
 *
 * Who owns the refresh context (ctx): ngx_http_exchange_access_ldap_refresh()
 * makes it, and only ngx_http_exchange_access_ldap_end() frees it.  The
 * rule every function follows: a function that may end the refresh or
 * leave the server returns void, and whoever calls it returns at once,
 * without touching ctx again.  Those are _refresh(), _end(), _next() and
 * _try(), the event handlers (_connected, _tls_done, _read, _resume,
 * _deadline, _dummy) and the steps they end with (_tls, _run, _install).
 * Every other function (_start here, and _verify, _wait, _progress,
 * _renew, _limits, _state, _u and _note in
 * ngx_http_exchange_access_ldap_ctx.c) never ends anything: it reports
 * with its return value, and its caller decides.
 *
 * The watch (ldap_watch) is the same context with watch set: the same
 * connection, TLS and bind, then the watch's states of the refresh's
 * logic instead of a read of the list, one poll every ldap_watch_interval
 * and the connection kept between polls.  _end() of a watch frees its
 * context too, and the list's timer starts another one after a back-off;
 * _watch() is that timer's part.
 */


static void ngx_http_exchange_access_ldap_try(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
static void ngx_http_exchange_access_ldap_next(
    ngx_http_exchange_access_ldap_ctx_t *ctx, const char *fmt, ...);
static void ngx_http_exchange_access_ldap_end(
    ngx_http_exchange_access_ldap_ctx_t *ctx, const char *error);
static void ngx_http_exchange_access_ldap_full(
    ngx_http_exchange_access_ldap_ctx_t *ctx, const char *error);
static void ngx_http_exchange_access_ldap_install(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
static void ngx_http_exchange_access_ldap_close(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
static ngx_int_t ngx_http_exchange_access_ldap_get_peer(
    ngx_peer_connection_t *pc, void *data);
static void ngx_http_exchange_access_ldap_connected(ngx_event_t *wev);
static void ngx_http_exchange_access_ldap_dummy(ngx_event_t *ev);
static const char *ngx_http_exchange_access_ldap_start(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
#if (NGX_SSL)
static void ngx_http_exchange_access_ldap_tls(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
static void ngx_http_exchange_access_ldap_tls_done(ngx_connection_t *c);
#endif
static void ngx_http_exchange_access_ldap_read(ngx_event_t *rev);
static void ngx_http_exchange_access_ldap_resume(ngx_event_t *ev);
static void ngx_http_exchange_access_ldap_deadline(ngx_event_t *ev);
static void ngx_http_exchange_access_ldap_timed(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
static void ngx_http_exchange_access_ldap_run(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
static ngx_http_exchange_access_ldap_ctx_t *
    ngx_http_exchange_access_ldap_create(ngx_http_exchange_access_list_t *list,
    ngx_log_t *log);
static void ngx_http_exchange_access_ldap_tick(ngx_event_t *ev);
static void ngx_http_exchange_access_ldap_watch_end(
    ngx_http_exchange_access_ldap_ctx_t *ctx, const char *error);
static void ngx_http_exchange_access_ldap_watch_stop(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
static void ngx_http_exchange_access_ldap_polled(
    ngx_http_exchange_access_ldap_ctx_t *ctx, ngx_int_t changed);


/* a refresh: from the first address of the first URL */

void
ngx_http_exchange_access_ldap_refresh(ngx_http_exchange_access_list_t *list,
    ngx_log_t *log)
{
    ngx_http_exchange_access_ldap_ctx_t  *ctx;

    ctx = ngx_http_exchange_access_ldap_create(list, log);
    if (ctx == NULL) {
        ngx_http_exchange_access_list_done(list, NULL, "out of memory", log);
        return;
    }

    /* however the servers answer, a refresh ends by this time */

    ctx->deadline.handler = ngx_http_exchange_access_ldap_deadline;
    ctx->deadline.data = ctx;
    ctx->deadline.log = log;
    ctx->deadline.cancelable = 1;

    ngx_add_timer(&ctx->deadline, ctx->lcf->refresh_timeout);

    list->running = ctx;

    ngx_http_exchange_access_ldap_plan(ctx);

    ngx_http_exchange_access_ldap_try(ctx);
}


static ngx_http_exchange_access_ldap_ctx_t *
ngx_http_exchange_access_ldap_create(ngx_http_exchange_access_list_t *list,
    ngx_log_t *log)
{
    ngx_pool_t                           *pool;
    ngx_pool_cleanup_t                   *cln;
    ngx_http_exchange_access_ldap_ctx_t  *ctx;

    pool = ngx_create_pool(4096, log);
    if (pool == NULL) {
        return NULL;
    }

    ctx = ngx_pcalloc(pool, sizeof(ngx_http_exchange_access_ldap_ctx_t));
    cln = ngx_pool_cleanup_add(pool, 0);

    if (ctx == NULL || cln == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    cln->handler = ngx_http_exchange_access_ldap_drop;
    cln->data = ctx;

    ctx->list = list;
    ctx->lcf = list->source_conf;
    ctx->pool = pool;
    ctx->log = log;

    ctx->lrcf = ctx->lcf->lr;
    ctx->lrcf.note = ngx_http_exchange_access_ldap_note;
    ctx->lrcf.data = ctx;

    ngx_http_exchange_access_ldap_limits(ctx);

    ctx->resume.handler = ngx_http_exchange_access_ldap_resume;
    ctx->resume.data = ctx;
    ctx->resume.log = log;

    return ctx;
}


/*
 * The watch's part of the list's timer, every second in every worker: the
 * worker that holds the watch's lease keeps it and watches; when nobody
 * holds it, the first worker to look takes it.  After a failure the next
 * watch starts after a back-off (1, 2, 4 ... 30 seconds).
 */

void
ngx_http_exchange_access_ldap_watch(ngx_http_exchange_access_list_t *list,
    ngx_log_t *log)
{
    time_t                                now;
    ngx_uint_t                            ours;
    ngx_http_exchange_access_shctx_t     *sh;
    ngx_http_exchange_access_ldap_ctx_t  *ctx;
    ngx_http_exchange_access_ldap_conf_t *lcf;

    lcf = list->source_conf;

    if (lcf->watch == NGX_HTTP_EXCHANGE_ACCESS_WATCH_OFF) {
        return;
    }

    sh = list->sh;
    now = ngx_time();
    ours = 0;

    ngx_shmtx_lock(&list->shpool->mutex);

    if (sh->watch_pid == ngx_pid || sh->watch_pid == 0
        || now >= sh->watch_until)
    {
        ours = 1;
        sh->watch_pid = ngx_pid;
        sh->watch_until = now + 5;
    }

    ngx_shmtx_unlock(&list->shpool->mutex);

    ctx = list->watching;

    if (!ours) {
        if (ctx) {
            /* another worker took over: this one stops */
            ngx_http_exchange_access_ldap_end(ctx, NULL);
        }

        return;
    }

    if (ctx || now < list->watch_retry) {
        return;
    }

    ctx = ngx_http_exchange_access_ldap_create(list, log);
    if (ctx == NULL) {
        return;
    }

    ctx->watch = 1;
    ctx->lrcf.watch = lcf->watch;

    ctx->tick.handler = ngx_http_exchange_access_ldap_tick;
    ctx->tick.data = ctx;
    ctx->tick.log = log;
    ctx->tick.cancelable = 1;

    list->watching = ctx;

    ngx_http_exchange_access_ldap_try(ctx);
}


/* connects to the next address to try, or ends the refresh */

static void
ngx_http_exchange_access_ldap_try(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    ngx_int_t                             rc;
    ngx_connection_t                     *c;
    ngx_http_exchange_access_ldap_url_t  *url;

    for ( ;; ) {
        if (ctx->url >= ctx->lcf->urls->nelts) {
            ngx_http_exchange_access_ldap_end(ctx,
                                  ctx->error[0] ? (char *) ctx->error
                                                : "no LDAP server to try");
            return;
        }

        url = ngx_http_exchange_access_ldap_u(ctx);

        if (ctx->addr < url->naddrs) {
            break;
        }

        ctx->url++;
        ctx->addr = 0;
    }

    ngx_memzero(&ctx->peer, sizeof(ngx_peer_connection_t));

    ctx->peer.sockaddr = url->addrs[ctx->addr].sockaddr;
    ctx->peer.socklen = url->addrs[ctx->addr].socklen;
    ctx->peer.name = &url->addrs[ctx->addr].name;
    ctx->peer.get = ngx_http_exchange_access_ldap_get_peer;
    ctx->peer.log = ctx->log;
    ctx->peer.log_error = NGX_ERROR_ERR;

    ctx->state = NGX_EXA_LR_CONNECT;

    ngx_http_exchange_access_ldap_renew(ctx);

    rc = ngx_event_connect_peer(&ctx->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_http_exchange_access_ldap_next(ctx, "connect() failed");
        return;
    }

    c = ctx->peer.connection;
    c->data = ctx;
    c->pool = ctx->pool;
    c->read->handler = ngx_http_exchange_access_ldap_dummy;
    c->write->handler = ngx_http_exchange_access_ldap_connected;
    c->read->cancelable = 1;
    c->write->cancelable = 1;

    if (rc == NGX_AGAIN) {
        ngx_add_timer(c->write, ctx->lcf->timeout);
        return;
    }

    ngx_http_exchange_access_ldap_connected(c->write);
}


/*
 * Gives up on the current server with an error and tries the next address
 * or URL; the error of the last one tried is the refresh's.
 */

static void
ngx_http_exchange_access_ldap_next(ngx_http_exchange_access_ldap_ctx_t *ctx,
    const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;

    last = ctx->error + sizeof(ctx->error) - 1;

    p = ngx_slprintf(ctx->error, last, "%V: ",
                     &ngx_http_exchange_access_ldap_u(ctx)->url);

    va_start(args, fmt);
    p = ngx_vslprintf(p, last, fmt, args);
    va_end(args);

    *p = '\0';

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ctx->log, 0,
                   "exchange access ldap: %s", ctx->error);

    ngx_http_exchange_access_ldap_close(ctx);

    ctx->addr++;

    ngx_http_exchange_access_ldap_try(ctx);
}


/*
 * The end of a refresh, good (error is NULL) or bad.  A good one installs
 * what it read first, in steps (_install()), then comes back here.
 */

static void
ngx_http_exchange_access_ldap_end(ngx_http_exchange_access_ldap_ctx_t *ctx,
    const char *error)
{
    size_t                             n;
    ngx_int_t                          rc;
    ngx_log_t                         *log;
    ngx_pool_t                        *pool;
    ngx_connection_t                  *c;
    const ngx_exa_lr_stats_t          *st;
    ngx_http_exchange_access_list_t   *list;

    list = ctx->list;
    log = ctx->log;
    pool = ctx->pool;

    if (ctx->watch) {
        ngx_http_exchange_access_ldap_watch_end(ctx, error);
        ngx_http_exchange_access_ldap_close(ctx);
        ngx_destroy_pool(pool);
        return;
    }

    if (ctx->installing) {
        /* the deadline, while the new table was being built */
        ngx_http_exchange_access_install_abort(&ctx->install);
        ctx->installing = 0;
    }

    if (error == NULL && ctx->lr && !ctx->installed) {
        st = ngx_exa_lr_stats(ctx->lr);

        if (st->refused) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "exchange_access_list \"%V\": %uz directory values "
                          "are not what their attribute holds and were "
                          "refused", &list->name, st->refused);
        }

        ngx_shmtx_lock(&list->shpool->mutex);
        list->sh->refused = st->refused;
        list->sh->watch_applied += (ngx_exa_lr_delta(ctx->lr) == 1);
        ngx_shmtx_unlock(&list->shpool->mutex);

        if (ngx_exa_lr_delta(ctx->lr) == 1) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "exchange_access_list \"%V\": changes applied "
                          "from %uz entries read (%uz named by the watch), "
                          "without a full read", &list->name, st->entries,
                          ctx->nchanged);
        }

        /* the refresh's keys, as an array, without a copy */

        ctx->keys.elts = (void *) ngx_exa_lr_keys(ctx->lr, &n);
        ctx->keys.nelts = n;
        ctx->keys.size = sizeof(ngx_exa_str_t);
        ctx->keys.nalloc = n;
        ctx->keys.pool = NULL;

        rc = ngx_http_exchange_access_install_start(&ctx->install, list,
                                                    &ctx->keys, 0);

        if (rc == NGX_OK) {
            /* the server has said all: nothing of it is awaited now */

            c = ctx->peer.connection;

            if (c && c->read->timer_set) {
                ngx_del_timer(c->read);
            }

            ctx->installing = 1;
            list->installing = &ctx->install;

            /* the build's first step in the next turn of the event loop */

            if (!ctx->resume.posted) {
                ngx_http_exchange_access_post_next(&ctx->resume);
            }

            return;
        }

        error = ngx_http_exchange_access_list_installed(list, &ctx->keys, rc,
                                                        0, log);
    }

    /* a delta that did not read all (not a table that does not fit) */

    if (error && ctx->delta && ctx->deadline.timer_set
        && (ctx->lr == NULL
            || ngx_exa_lr_state(ctx->lr) != NGX_EXA_LR_DONE_STATE))
    {
        ngx_http_exchange_access_ldap_full(ctx, error);
        return;
    }

    ngx_http_exchange_access_ldap_keep(ctx, error == NULL && ctx->lr
                                       && ngx_exa_lr_delta(ctx->lr) >= 0);

    if (ctx->resume.posted) {
        ngx_delete_posted_event(&ctx->resume);
    }

    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }

    list->running = NULL;

    ngx_http_exchange_access_list_done(list, NULL, error, log);

    ngx_http_exchange_access_ldap_close(ctx);

    ngx_destroy_pool(pool);
}


/*
 * A delta that failed (a change it cannot apply, or the server): the
 * refresh reads the list in full instead, from the first server.
 */

static void
ngx_http_exchange_access_ldap_full(ngx_http_exchange_access_ldap_ctx_t *ctx,
    const char *error)
{
    ngx_log_error(NGX_LOG_NOTICE, ctx->log, 0,
                  "exchange_access_list \"%V\": the changes were not "
                  "applied alone (%s), the list is read in full",
                  &ctx->list->name, error);

    ngx_http_exchange_access_ldap_close(ctx);
    ngx_http_exchange_access_ldap_keep(ctx, 0);

    ctx->delta = 0;
    ctx->tries = 0;
    ctx->url = 0;
    ctx->addr = 0;
    ctx->error[0] = '\0';
    ctx->model = ngx_exa_lm_create(ctx->lrcf.memory_max);

    ngx_http_exchange_access_ldap_try(ctx);
}


/* a step of the new table's build: the event loop has it back after it */

static void
ngx_http_exchange_access_ldap_install(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    ngx_int_t    rc;
    const char  *error;

    rc = ngx_http_exchange_access_install_step(&ctx->install,
                                               ctx->lrcf.step_usec, ctx->log);

    if (rc == NGX_AGAIN) {
        ngx_http_exchange_access_post_next(&ctx->resume);
        return;
    }

    ctx->installing = 0;
    ctx->installed = 1;

    error = ngx_http_exchange_access_list_installed(ctx->list, &ctx->keys, rc,
                                                    ctx->install.generation,
                                                    ctx->log);

    ngx_http_exchange_access_ldap_end(ctx, error);
}


/* the server's connection and what lives on it go; ctx stays */

static void
ngx_http_exchange_access_ldap_close(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    ngx_connection_t  *c;

    if (ctx->resume.posted) {
        ngx_delete_posted_event(&ctx->resume);
    }

    if (ctx->tick.timer_set) {
        ngx_del_timer(&ctx->tick);
    }

    if (ctx->ready) {
        ctx->lost = 1;
        ctx->ready = 0;
    }

    if (ctx->lr) {
        ngx_http_exchange_access_ldap_free(ctx->lr);
        ctx->lr = NULL;
    }

    if (ctx->ld) {
        ldap_unbind_ext(ctx->ld, NULL, NULL);
        ctx->ld = NULL;
        ctx->io = NULL;
    }

    c = ctx->peer.connection;

    if (c) {
#if (NGX_SSL)
        if (c->ssl) {
            c->ssl->no_wait_shutdown = 1;
            c->ssl->no_send_shutdown = 1;
            (void) ngx_ssl_shutdown(c);
        }
#endif
        /* the pool is the refresh's, not the connection's */
        c->pool = NULL;
        ngx_close_connection(c);
        ctx->peer.connection = NULL;
    }
}


static ngx_int_t
ngx_http_exchange_access_ldap_get_peer(ngx_peer_connection_t *pc, void *data)
{
    return NGX_OK;
}


static void
ngx_http_exchange_access_ldap_dummy(ngx_event_t *ev)
{
    ngx_connection_t                     *c;
    ngx_http_exchange_access_ldap_ctx_t  *ctx;

    c = ev->data;
    ctx = c->data;

    if (ev->timedout) {
        ngx_http_exchange_access_ldap_next(ctx, "timed out (%s)",
                                   ngx_http_exchange_access_ldap_state(ctx));
    }
}


static void
ngx_http_exchange_access_ldap_connected(ngx_event_t *wev)
{
    int                                   err;
    socklen_t                             len;
    const char                           *failed;
    ngx_connection_t                     *c;
    ngx_http_exchange_access_ldap_ctx_t  *ctx;

    c = wev->data;
    ctx = c->data;

    if (wev->timedout) {
        ngx_http_exchange_access_ldap_next(ctx, "connect timed out");
        return;
    }

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_http_exchange_access_ldap_next(ctx, "connect() failed (%d)", err);
        return;
    }

    wev->handler = ngx_http_exchange_access_ldap_dummy;

#if (NGX_SSL)
    if (ngx_http_exchange_access_ldap_u(ctx)->ldaps) {
        ngx_http_exchange_access_ldap_tls(ctx);
        return;
    }
#endif

    failed = ngx_http_exchange_access_ldap_start(ctx);

    if (failed) {
        ngx_http_exchange_access_ldap_next(ctx, "%s", failed);
        return;
    }

    if (ctx->lcf->starttls) {
        if (ngx_exa_lr_starttls(ctx->lr) != NGX_EXA_LR_AGAIN) {
            ngx_http_exchange_access_ldap_next(ctx, "%s",
                                               ngx_exa_lr_error(ctx->lr));
            return;
        }

    } else if (ngx_exa_lr_bind(ctx->lr) != NGX_EXA_LR_AGAIN) {
        ngx_http_exchange_access_ldap_next(ctx, "%s",
                                           ngx_exa_lr_error(ctx->lr));
        return;
    }

    if (ngx_http_exchange_access_ldap_wait(ctx) != NGX_OK) {
        ngx_http_exchange_access_ldap_next(ctx, "read event failed");
    }
}


/* libldap on top of the nginx connection, and the refresh's logic on it */

static const char *
ngx_http_exchange_access_ldap_start(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    int                                   rc, version;
    ngx_connection_t                     *c;
    ngx_http_exchange_access_ldap_url_t  *url;
    static u_char                         failed[80];

    c = ctx->peer.connection;
    url = ngx_http_exchange_access_ldap_u(ctx);

    rc = ldap_init_fd(c->fd, LDAP_PROTO_EXT, (char *) url->url.data,
                      &ctx->ld);
    if (rc != LDAP_SUCCESS) {
        ngx_snprintf(failed, sizeof(failed), "ldap_init_fd() failed "
                     "(%d: %s)%Z", rc, ldap_err2string(rc));
        return (char *) failed;
    }

    version = LDAP_VERSION3;

    /*
     * no referral is chased: libldap would open a connection of its own,
     * blocking, to any server a directory names, and give back what that
     * server answers as the directory's answer.  The option's value is the
     * pointer itself: a pointer to a zero would turn chasing on.
     */

    if (ldap_set_option(ctx->ld, LDAP_OPT_PROTOCOL_VERSION, &version)
        != LDAP_OPT_SUCCESS
        || ldap_set_option(ctx->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF)
           != LDAP_OPT_SUCCESS
        || (ctx->io = ngx_http_exchange_access_ldap_io(ctx->ld, c,
                                                       ctx->pool))
           == NULL)
    {
        return "setting up libldap failed";
    }

    ctx->lr = ngx_exa_lr_create(&ctx->lrcf, ctx->ld);
    if (ctx->lr == NULL) {
        return "out of memory";
    }

    if (!ctx->watch) {
        (void) ngx_http_exchange_access_ldap_model(ctx);
    }

    c->read->handler = ngx_http_exchange_access_ldap_read;

    return NULL;
}


#if (NGX_SSL)

static void
ngx_http_exchange_access_ldap_tls(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    ngx_int_t                             rc;
    ngx_connection_t                     *c;
    ngx_http_exchange_access_ldap_url_t  *url;
    u_char                                name[256];

    c = ctx->peer.connection;
    url = ngx_http_exchange_access_ldap_u(ctx);

    ctx->state = NGX_EXA_LR_HANDSHAKE;

    if (ctx->io && ngx_http_exchange_access_ldap_io_buffered(ctx->io)) {
        ngx_http_exchange_access_ldap_next(ctx, "the server sent more after "
                                           "it accepted StartTLS");
        return;
    }

    if (ngx_ssl_create_connection(ctx->lcf->ssl, c, NGX_SSL_CLIENT)
        != NGX_OK)
    {
        ngx_http_exchange_access_ldap_next(ctx, "TLS setup failed");
        return;
    }

    /* SNI for names, not for addresses */

    if (url->host.len
        && ngx_inet_addr(url->host.data, url->host.len) == INADDR_NONE
        && url->host.data[0] != '[')
    {
        ngx_cpystrn(name, url->host.data,
                    ngx_min(url->host.len + 1, sizeof(name)));

        if (SSL_set_tlsext_host_name(c->ssl->connection, (char *) name)
            == 0)
        {
            ngx_http_exchange_access_ldap_next(ctx,
                                      "SSL_set_tlsext_host_name() failed");
            return;
        }
    }

    c->log->action = "TLS handshake with the LDAP server";

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        if (!c->write->timer_set) {
            ngx_add_timer(c->write, ctx->lcf->timeout);
        }

        c->ssl->handler = ngx_http_exchange_access_ldap_tls_done;
        return;
    }

    ngx_http_exchange_access_ldap_tls_done(c);
}


static void
ngx_http_exchange_access_ldap_tls_done(ngx_connection_t *c)
{
    const char                           *failed;
    ngx_http_exchange_access_ldap_ctx_t  *ctx;
    u_char                                buf[128];

    ctx = c->data;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    c->log->action = NULL;

    if (!c->ssl->handshaked) {
        ngx_http_exchange_access_ldap_next(ctx, "TLS handshake failed");
        return;
    }

    failed = ngx_http_exchange_access_ldap_verify(ctx, c, buf, sizeof(buf));

    if (failed) {
        ngx_http_exchange_access_ldap_next(ctx, "%s", failed);
        return;
    }

    c->read->handler = ngx_http_exchange_access_ldap_read;
    c->write->handler = ngx_http_exchange_access_ldap_dummy;

    if (ctx->lr == NULL) {

        /* ldaps: libldap starts on the secured connection */

        failed = ngx_http_exchange_access_ldap_start(ctx);

        if (failed) {
            ngx_http_exchange_access_ldap_next(ctx, "%s", failed);
            return;
        }
    }

    if (ngx_exa_lr_bind(ctx->lr) != NGX_EXA_LR_AGAIN) {
        ngx_http_exchange_access_ldap_next(ctx, "%s",
                                           ngx_exa_lr_error(ctx->lr));
        return;
    }

    if (ngx_http_exchange_access_ldap_wait(ctx) != NGX_OK) {
        ngx_http_exchange_access_ldap_next(ctx, "read event failed");
    }
}


#endif


static void
ngx_http_exchange_access_ldap_read(ngx_event_t *rev)
{
    ngx_connection_t                     *c;
    ngx_http_exchange_access_ldap_ctx_t  *ctx;

    c = rev->data;
    ctx = c->data;

    if (ctx->installing) {
        /* all is read: the build goes on from ctx->resume */
        return;
    }

    if (c->close) {
        /* the worker shuts down: the watch's connection is an idle one */
        ngx_http_exchange_access_ldap_watch_stop(ctx);
        return;
    }

    if (rev->timedout) {
        ngx_http_exchange_access_ldap_next(ctx, "timed out (%s)",
                                   ngx_http_exchange_access_ldap_state(ctx));
        return;
    }

    ngx_http_exchange_access_ldap_timed(ctx);
}


static void
ngx_http_exchange_access_ldap_resume(ngx_event_t *ev)
{
    ngx_http_exchange_access_ldap_timed(ev->data);
}


/* a step of the refresh, timed; the list outlives ctx */

static void
ngx_http_exchange_access_ldap_timed(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    ngx_http_exchange_access_list_t  *list;

    list = ctx->list;

    ngx_http_exchange_access_step_start(list);
    ngx_http_exchange_access_ldap_run(ctx);
    ngx_http_exchange_access_step_end(list);
}


static void
ngx_http_exchange_access_ldap_deadline(ngx_event_t *ev)
{
    u_char                               *p;
    ngx_http_exchange_access_ldap_ctx_t  *ctx;

    ctx = ev->data;

    p = ngx_snprintf(ctx->error, sizeof(ctx->error) - 1,
                     "%V: the refresh took longer than ldap_refresh_timeout "
                     "(%Ms), in %s",
                     &ngx_http_exchange_access_ldap_u(ctx)->url,
                     ctx->lcf->refresh_timeout / 1000,
                     ngx_http_exchange_access_ldap_state(ctx));
    *p = '\0';

    ngx_http_exchange_access_ldap_end(ctx, (char *) ctx->error);
}


/* the refresh's logic reads what came, and says what to do next */

static void
ngx_http_exchange_access_ldap_run(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    u_char     *p;
    ngx_int_t  rc;

    if (ctx->installing) {
        ngx_http_exchange_access_ldap_install(ctx);
        return;
    }

    rc = ngx_exa_lr_step(ctx->lr);

    switch (rc) {

    case NGX_EXA_LR_IDLE:
    case NGX_EXA_LR_CHANGED:
        ngx_http_exchange_access_ldap_progress(ctx);
        ngx_http_exchange_access_ldap_polled(ctx, rc == NGX_EXA_LR_CHANGED);
        return;

    case NGX_EXA_LR_AGAIN:
        ngx_http_exchange_access_ldap_progress(ctx);

        if (ngx_exa_lr_state(ctx->lr) == NGX_EXA_LR_WATCH_IDLE
            || ngx_exa_lr_persistent(ctx->lr))
        {

            /* between polls: no answer is awaited, a close is read */

            if (ngx_handle_read_event(ctx->peer.connection->read, 0)
                != NGX_OK)
            {
                ngx_http_exchange_access_ldap_next(ctx, "read event failed");
            }

            return;
        }

        if (ngx_http_exchange_access_ldap_wait(ctx) != NGX_OK) {
            ngx_http_exchange_access_ldap_next(ctx, "read event failed");
        }

        return;

    case NGX_EXA_LR_YIELD:
        ngx_http_exchange_access_ldap_progress(ctx);

        /* the rest after the other events of this turn of the loop */

        ngx_http_exchange_access_post_next(&ctx->resume);
        return;

#if (NGX_SSL)
    case NGX_EXA_LR_TLS:
        if (ctx->peer.connection->read->timer_set) {
            ngx_del_timer(ctx->peer.connection->read);
        }

        ngx_http_exchange_access_ldap_tls(ctx);
        return;
#endif

    case NGX_EXA_LR_DONE:
        ngx_http_exchange_access_ldap_end(ctx, NULL);
        return;

    default:
        if (ngx_exa_lr_retry(ctx->lr)) {
            ngx_http_exchange_access_ldap_next(ctx, "%s",
                                               ngx_exa_lr_error(ctx->lr));
            return;
        }

        p = ngx_snprintf(ctx->error, sizeof(ctx->error) - 1, "%V: %s",
                         &ngx_http_exchange_access_ldap_u(ctx)->url,
                         ngx_exa_lr_error(ctx->lr));
        *p = '\0';

        ngx_http_exchange_access_ldap_end(ctx, (char *) ctx->error);
        return;
    }
}


/*
 * A poll answered, or the watch's first look done: the next poll after
 * the interval.  A change starts a refresh, and so does the first look.
 */

static void
ngx_http_exchange_access_ldap_polled(ngx_http_exchange_access_ldap_ctx_t *ctx,
    ngx_int_t changed)
{
    int                                kind;
    ngx_event_t                       *rev;
    ngx_uint_t                         again;
    ngx_http_exchange_access_list_t   *list;
    ngx_http_exchange_access_shctx_t  *sh;

    list = ctx->list;
    sh = list->sh;
    rev = ctx->peer.connection->read;

    /*
     * the first look: a refresh, since what changed before it, after the
     * last refresh read the directory, is not seen by the polls
     */

    again = !ctx->ready;

    if (rev->timer_set) {
        ngx_del_timer(rev);
    }

    if (!ctx->ready) {
        ctx->ready = 1;
        kind = ngx_exa_lr_watch_kind(ctx->lr);

        if (ngx_exa_lr_persistent(ctx->lr)) {
            ngx_http_exchange_access_ldap_keepalive(ctx->peer.connection);
        }

        /* closed, not waited for, when the worker shuts down */
        ctx->peer.connection->idle = 1;

        ngx_shmtx_lock(&list->shpool->mutex);

        ngx_cpystrn(sh->watch_kind, (u_char *) ngx_exa_lr_watch_name(kind),
                    sizeof(sh->watch_kind));
        sh->watch_up = 1;

        if (list->watch_failing || ctx->lost) {
            sh->watch_reconnects++;
        }

        ngx_shmtx_unlock(&list->shpool->mutex);

        if (list->watch_failing || ctx->lost) {
            ngx_log_error(NGX_LOG_NOTICE, ctx->log, 0,
                          "exchange_access_list \"%V\": the watch works "
                          "again (%V, %s)", &list->name,
                          &ngx_http_exchange_access_ldap_u(ctx)->url,
                          ngx_exa_lr_watch_name(kind));
        }

        list->watch_failing = 0;
        list->watch_backoff = 0;
    }

    if (!ngx_exa_lr_persistent(ctx->lr)) {
        ngx_add_timer(&ctx->tick, ctx->lcf->watch_interval);

    } else if (changed) {

        /* more changes may wait in libldap's buffer: read on, soon */

        ngx_http_exchange_access_post_next(&ctx->resume);
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_exchange_access_ldap_next(ctx, "read event failed");
        return;
    }

    /* last: a refresh may start here, with a context of its own */

    if (changed) {
        ngx_http_exchange_access_ldap_seen(ctx, 1);
        ngx_http_exchange_access_list_changed(list,
                                  ngx_exa_lr_changed_at(ctx->lr), ctx->log);

    } else if (again) {
        ngx_http_exchange_access_ldap_seen(ctx, 0);
        ngx_http_exchange_access_list_changed(list, -1, ctx->log);
    }
}


static void
ngx_http_exchange_access_ldap_tick(ngx_event_t *ev)
{
    ngx_http_exchange_access_ldap_ctx_t  *ctx;

    ctx = ev->data;

    if (ngx_exa_lr_poll(ctx->lr) != NGX_EXA_LR_AGAIN) {
        ngx_http_exchange_access_ldap_next(ctx, "%s",
                                           ngx_exa_lr_error(ctx->lr));
        return;
    }

    if (ngx_http_exchange_access_ldap_wait(ctx) != NGX_OK) {
        ngx_http_exchange_access_ldap_next(ctx, "read event failed");
    }
}


/* the watch ends: stopped (error is NULL), or failed */

static void
ngx_http_exchange_access_ldap_watch_end(
    ngx_http_exchange_access_ldap_ctx_t *ctx, const char *error)
{
    ctx->list->watching = NULL;

    ngx_http_exchange_access_list_watch_failed(ctx->list, error, ctx->log);
}


/* the worker shuts down: the watch ends and its lease goes at once */

static void
ngx_http_exchange_access_ldap_watch_stop(
    ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    ngx_http_exchange_access_list_t  *list;

    list = ctx->list;

    ngx_shmtx_lock(&list->shpool->mutex);

    if (list->sh->watch_pid == ngx_pid) {
        list->sh->watch_pid = 0;
        list->sh->watch_until = 0;
    }

    ngx_shmtx_unlock(&list->shpool->mutex);

    ngx_http_exchange_access_ldap_end(ctx, NULL);
}
